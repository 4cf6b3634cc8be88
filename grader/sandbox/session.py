"""A submission in the sandbox: its workers (one per rule set of its modules) and the :class:`SandboxedStudent` that
the tests call. Every :class:`~grader.sandbox.outcome.Outcome` becomes a reply or a :class:`GradingFailure` here."""

from __future__ import annotations

import time
from typing import Any

from grader.escape import clean_text
from grader.feedback import Feedback, GradingFailure
from grader.limits import Limits
from grader.sandbox.bubblewrap import Isolation, isolation
from grader.sandbox.inside.protocol import (
    CallFunction,
    Forget,
    Import,
    LoadParameters,
    Raised,
    ReadConstant,
    ReadParameters,
    Request,
    Returned,
)
from grader.sandbox.outcome import Outcome, Status
from grader.sandbox.worker_client import WorkerClient
from grader.student import Call, Kept, same

MAX_PRINTED = 8192
TIMEOUTS_BEFORE_GIVING_UP = 2
"""After this many calls of one function that hung or ended the worker, its later calls fail at once instead of
waiting (or re-importing the module) again."""
LOST_WORKER = {Status.TIMEOUT: "timeout", Status.RESOURCES: "resources", Status.DIED: "exception"}


def rule_set(rules: dict[str, bool]) -> frozenset[str]:
    return frozenset(name for name, on in rules.items() if on)


def grading_order(rules: dict[str, dict[str, bool]], names: list[str]) -> list[str]:
    """``names`` ordered so that modules graded under the same rules (their worker's: see
    :attr:`SubmissionSession.hosts`) are graded one after another, by one worker."""

    def strictness(name: str) -> tuple[int, list[str]]:
        module_rules = rule_set(rules.get(name, {}))
        return len(module_rules), sorted(module_rules)

    return sorted(names, key=strictness)


class SubmissionSession:
    """The workers of one submission, one alive at a time, each replaced whenever it hangs or dies. A rule is made
    true when a worker starts, for its whole life, and never later (student code that ran in it could have
    disarmed the rules' own machinery), so each rule set has a worker of its own: graded by rule set
    (:func:`grading_order`), a full submission needs one worker per rule set its modules are graded under.

    A module may be graded under stricter rules than its own (``hosts``, :func:`grader.rules.host_rules`: where
    the static check finds nothing in it that they forbid), so that fewer workers start. Should it still meet the
    refusal of a rule it does not have (by a route a reading cannot follow), it is :attr:`overruled`: the grader
    grades it again, in a worker of its own rules (:meth:`unhost`).

    A module whose import hangs or kills the worker is remembered, so that its later calls fail at once instead of
    restarting the worker for each test; so is a function that ran out of time or ended the worker in
    ``TIMEOUTS_BEFORE_GIVING_UP`` tests, so that one endless loop (or a function that exits, making every later
    test re-import the module) costs a few time limits, not one per test. An import has the test's own time.
    """

    def __init__(
        self,
        sources: dict[str, str],
        rules: dict[str, dict[str, bool]],
        limits: Limits,
        hosts: dict[str, dict[str, bool]] | None = None,
    ) -> None:
        self.sources = sources
        self.rules = {name: rule_set(module_rules) for name, module_rules in rules.items()}
        self.hosts = {name: rule_set(host) for name, host in (hosts or {}).items()}
        """The rules of the worker that grades each module, where they are not its own."""
        self.overruled: set[str] = set()
        """Hosted modules that met the refusal of a rule of their worker's that is not theirs."""
        self.limits = limits
        self.isolation: Isolation = isolation(limits)
        self.worker: WorkerClient | None = None
        self.imported: set[str] = set()
        self.broken_imports: dict[str, Feedback] = {}
        self.timeouts: dict[str, int] = {}
        self.printed: dict[str, str] = {}
        self.worker_output = ""
        self.sandbox_failed: Feedback | None = None
        """Set once no worker could be started: every later call fails at once, not counted, instead of waiting."""
        self.generation = 0
        """How many workers were retired: an object kept by an earlier worker is gone."""

    def worker_for(self, module: str) -> WorkerClient:
        """The worker of the rules ``module`` is graded under: the current one if it has exactly those rules, else a
        fresh one."""
        wanted = self.hosts.get(module, self.rules.get(module, frozenset()))
        if self.worker is not None and rule_set(self.worker.rules) != wanted:
            self._retire()
        if self.worker is None:
            self.worker = WorkerClient(self.sources, {name: True for name in sorted(wanted)}, self.limits)
        return self.worker

    def ask(self, module: str, request: Request, timeout: float, what: str) -> Returned:
        """The worker's :class:`Returned` for ``request``, or a :class:`GradingFailure` saying what went wrong.

        The module is imported by a request of its own first, so that a hang or an exit is charged to the import
        or to the call, whichever it happened in.
        """
        if self.sandbox_failed is not None:
            raise GradingFailure(self.sandbox_failed)
        if module in self.overruled:  # this grading of it is dropped: it is graded again under its own rules
            raise GradingFailure(Feedback(kind="exception", message=f"{what} is graded again under its own rules"))
        if module in self.broken_imports:
            raise GradingFailure(self.broken_imports[module])
        function = f"{module}.{what}"
        if self.timeouts.get(function, 0) >= TIMEOUTS_BEFORE_GIVING_UP:
            raise GradingFailure(
                Feedback(
                    kind="timeout",
                    message=f"{what} was not run: it ran out of time or ended the worker in "
                    f"{TIMEOUTS_BEFORE_GIVING_UP} earlier tests, so the grader stopped calling it (make it finish, "
                    "then submit again)",
                )
            )
        if module not in self.imported:
            try:
                imported = self.worker_for(module).ask(Import(module=module), timeout)
                self._reply(module, imported, f"importing {module}.py")
            except GradingFailure as failure:
                if failure.feedback.kind == "sandbox":
                    raise
                self.broken_imports[module] = failure.feedback.model_copy(
                    update={
                        "kind": "import" if failure.feedback.kind == "exception" else failure.feedback.kind,
                        "message": f"{failure.feedback.message}; no function of {module}.py can be graded",
                    }
                )
                raise GradingFailure(self.broken_imports[module]) from None
            self.imported.add(module)
        outcome = self.worker_for(module).ask(request, timeout)
        if outcome.ended_worker and outcome.students:
            self.timeouts[function] = self.timeouts.get(function, 0) + 1
        return self._reply(module, outcome, what)

    def _reply(self, module: str, outcome: Outcome, what: str) -> Returned:
        """``outcome`` as the reply the tests read, or as the student's failure; a lost worker is replaced."""
        if outcome.ended_worker:
            self._retire()
        reply = outcome.reply
        if reply is not None and module in self.hosts and not set(reply.refused) <= self.rules.get(module, set()):
            self.overruled.add(module)
        if reply is not None and reply.printed:
            self.printed[module] = clean_text(self.printed.get(module, "") + reply.printed, MAX_PRINTED)
        if isinstance(reply, Returned):
            return reply
        if isinstance(reply, Raised):
            raise GradingFailure(
                Feedback(
                    kind=reply.kind,
                    message=clean_text(reply.message, 2000),
                    exception=clean_text(reply.exception, 100) or None,
                    traceback=clean_text(reply.traceback, 4000) or None,
                )
            )
        if outcome.status is Status.SANDBOX_ERROR:  # tried twice: the rest of the submission is not tried again
            message = f"the grader could not run your code (not your fault; ask for a regrade): {outcome.message}"
            self.sandbox_failed = Feedback(kind="sandbox", message=message)
            raise GradingFailure(self.sandbox_failed)
        if outcome.status is Status.PROTOCOL_ERROR:
            message = f"the worker running {what} {outcome.message}: code must not interfere with the grader"
            raise GradingFailure(Feedback(kind="exception", message=message))
        raise GradingFailure(Feedback(kind=LOST_WORKER[outcome.status], message=f"{what} {outcome.message}"))

    def unhost(self, module: str) -> None:
        """Grade ``module`` from now on in a worker of its own rules, as if it had not been graded yet."""
        self.hosts.pop(module, None)
        self.overruled.discard(module)
        self.imported.discard(module)
        self.broken_imports.pop(module, None)
        self.printed.pop(module, None)
        self.timeouts = {name: n for name, n in self.timeouts.items() if not name.startswith(f"{module}.")}

    def _retire(self) -> None:
        """Stop the current worker; the next request starts a fresh one, which imports modules anew."""
        if self.worker is not None:
            self.worker_output += self.worker.printed()
            self.worker.close()
            self.worker = None
            self.generation += 1
        self.imported.clear()

    def output(self) -> str:
        """What the worker processes wrote outside Python's own streams (``os.write(1, ...)``), capped."""
        current = self.worker.printed() if self.worker is not None else ""
        return clean_text(self.worker_output + current, MAX_PRINTED)

    def close(self) -> None:
        self._retire()


class SandboxedStudent:
    """One module of a submission, graded through a :class:`SubmissionSession`. Kept objects are numbered here, and
    each is known with the worker (:attr:`SubmissionSession.generation`) that holds it."""

    def __init__(self, session: SubmissionSession, module: str, violations: dict[str | None, list[str]]) -> None:
        self.session = session
        self.module = module
        self.violations = violations
        self.deadline = time.monotonic() + 60.0
        self.time_limit = 60.0
        self.kept: dict[int, int] = {}
        """The generation of the worker holding each object kept in the current test."""
        self.handles = 0

    def start_test(self, seconds: float) -> None:
        self.time_limit = seconds
        self.deadline = time.monotonic() + seconds
        alive = [handle for handle, generation in self.kept.items() if generation == self.session.generation]
        self.kept.clear()
        if alive:
            self._reply(Forget(handles=alive), "dropping the last test's objects")

    def _reply(self, request: Request, what: str) -> Returned:
        remaining = max(0.05, self.deadline - time.monotonic())
        return self.session.ask(self.module, request, remaining, what)

    def _handle(self, kept: Kept) -> int:
        """``kept``'s number, while the worker that keeps it lives."""
        if self.kept.get(kept.handle) != self.session.generation:
            message = f"what {kept.made_by} made earlier in this test was lost when the worker running it ended"
            raise GradingFailure(Feedback(kind="exception", message=message))
        return kept.handle

    def _check_static(self, function: str) -> None:
        static = self.violations.get(function, []) + self.violations.get(None, [])
        if static:
            raise GradingFailure(
                Feedback(kind="rule", message=f"{function} breaks a rule of the contract: " + "; ".join(static[:3]))
            )

    def _request(
        self, function: str, args: tuple[Any, ...], watch: bool, keep: bool, seed: int | None, target: Kept | None
    ) -> Call:
        kept = {str(i): self._handle(a) for i, a in enumerate(args) if isinstance(a, Kept)}
        handle = None
        if keep:
            handle, self.handles = self.handles, self.handles + 1
        request = CallFunction(
            module=self.module,
            function=function,
            args=[None if isinstance(a, Kept) else a for a in args],
            cpu_seconds=self.time_limit,
            watch=watch,
            target=None if target is None else self._handle(target),
            kept=kept,
            keep=handle,
            seed=seed,
        )
        what = function if target is None else f"{target.made_by}.{function}"
        reply = self._reply(request, what)
        mutated = self._mutated(what, args, reply) if watch else []
        if handle is not None:
            self.kept[handle] = self.session.generation
            return Call(value=Kept(handle, function), mutated=mutated)
        return Call(value=reply.value, mutated=mutated)

    def call(
        self, function: str, *args: Any, watch: bool = False, keep: bool = False, seed: int | None = None
    ) -> Call:
        self._check_static(function)
        return self._request(function, args, watch, keep, seed, None)

    def method(self, target: Kept, name: str, *args: Any, seed: int | None = None) -> Call:
        self._check_static(target.made_by)
        return self._request(name, args, False, False, seed, target)

    def parameters(self, model: Kept) -> dict[str, Any]:
        request = ReadParameters(handle=self._handle(model), cpu_seconds=self.time_limit)
        value = self._reply(request, f"reading the parameters of what {model.made_by} made").value
        if type(value) is not dict:  # only a worker that broke the protocol answers otherwise
            raise GradingFailure(Feedback(kind="exception", message=f"{model.made_by}'s parameters did not arrive"))
        return value

    def load_parameters(self, model: Kept, values: dict[str, Any]) -> None:
        request = LoadParameters(handle=self._handle(model), values=values, cpu_seconds=self.time_limit)
        self._reply(request, f"loading parameters into what {model.made_by} made")

    def _mutated(self, function: str, args: tuple[Any, ...], reply: Returned) -> list[int]:
        """Which plain arguments differ from what the grader sent, judged here from the arguments the worker sent
        back (a kept object is the student's to change)."""
        if len(reply.args) != len(args):
            raise GradingFailure(
                Feedback(
                    kind="exception",
                    message=f"the worker running {function} sent back {len(reply.args)} arguments for "
                    f"{len(args)}: code must not interfere with the grader",
                )
            )
        return [
            i
            for i, (before, after) in enumerate(zip(args, reply.args, strict=True))
            if not isinstance(before, Kept) and not same(before, after)
        ]

    def constant(self, name: str) -> Any:
        return self._reply(ReadConstant(module=self.module, name=name), name).value
