"""The trusted/untrusted boundary: where a submission's code runs, and everything that speaks to it.

``inside/`` is what the sandbox sees and runs (mounted read-only into bubblewrap; it imports nothing else of the
grader, which ``tests/test_boundary.py`` checks):

- :mod:`~grader.sandbox.inside.zygote`: the warm process that imported torch once and forks one worker per rule
  set of a submission (:class:`~grader.sandbox.inside.zygote.ZygoteServer`);
- :mod:`~grader.sandbox.inside.worker`: the worker, the only process that imports student code
  (:class:`~grader.sandbox.inside.worker.WorkerServer`);
- :mod:`~grader.sandbox.inside.rules`: the contract's rules made true in a worker before student code runs;
- :mod:`~grader.sandbox.inside.protocol` and :mod:`~grader.sandbox.inside.wire`: the typed messages both sides
  exchange and their one framing, with deadlines on every read and write.

The rest runs in the grader and trusts nothing it reads from inside:

- :mod:`~grader.sandbox.bubblewrap` and :mod:`~grader.sandbox.seccomp`: how the sandbox is built here, and how a
  report says so;
- :mod:`~grader.sandbox.zygote_client`: starts, asks and replaces zygotes (:class:`ZygoteClient`, the pool);
- :mod:`~grader.sandbox.worker_client`: one forked worker; every call ends in one typed
  :class:`~grader.sandbox.outcome.Outcome`, never an exception;
- :mod:`~grader.sandbox.session`: a submission's workers and the :class:`SandboxedStudent` the tests call.

This file imports nothing: the sandbox imports the package to reach ``inside``.
"""
