"""The grader's side of one worker: fork it from a warm zygote, send it calls, and turn whatever happens into one
:class:`~grader.sandbox.outcome.Outcome`. Nothing a worker does raises here."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

from grader.escape import clean_text
from grader.limits import Limits
from grader.sandbox.inside import protocol, wire
from grader.sandbox.inside.protocol import (
    Raised,
    Ready,
    Request,
    Returned,
    Setup,
)
from grader.sandbox.outcome import Outcome, Status
from grader.sandbox.zygote_client import ZYGOTES, SandboxError, ZygoteClient, drain


class WorkerClient:
    """One worker of a submission, for the modules of one rule set, forked from a zygote of this process."""

    def __init__(self, sources: dict[str, str], rules: dict[str, bool], limits: Limits) -> None:
        self.sources = sources
        self.rules = rules
        self.limits = limits
        self.zygote: ZygoteClient | None = None
        self.pid: int | None = None
        self.pipes: tuple[int, int] | None = None
        self.output = bytearray()
        self.drainer: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        """Fork the worker and hand it its :class:`Setup`; :class:`SandboxError` if that fails (no student code has
        run yet: whatever went wrong is the grader's)."""
        self.zygote = ZYGOTES.take(self.limits)
        if not self.zygote.alive:
            self.zygote.start()
        to_worker_r, to_worker = os.pipe()
        os.set_blocking(to_worker, False)  # every write has the call's deadline (wire.write_all)
        from_worker, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        self.pipes = (to_worker, from_worker)
        try:
            self.pid = self.zygote.fork([to_worker_r, from_worker_w, output_w])
        except SandboxError:
            os.close(output_r)
            self.kill()
            raise
        finally:
            for fd in (to_worker_r, from_worker_w, output_w):
                os.close(fd)
        self.drainer = drain(output_r, self.output, self.limits.max_output_bytes)
        own_user = self.zygote.isolation.level == "bubblewrap" and os.geteuid() == 0
        processes = self.limits.max_processes if own_user else None
        setup = Setup(sources=self.sources, rules=self.rules, max_processes=processes)
        deadline = time.monotonic() + self.limits.startup_seconds
        try:
            protocol.send(to_worker, setup, deadline)
            protocol.receive(from_worker, (Ready,), deadline)
        except (OSError, EOFError, TimeoutError, wire.WireError, protocol.ProtocolError) as error:
            self.kill()
            raise SandboxError(f"the worker did not start: {error}; its output: {self.printed()}") from None

    def printed(self) -> str:
        """What the worker wrote to its stdout and stderr outside of calls, made safe and capped."""
        return clean_text(bytes(self.output), self.limits.max_output_bytes)

    def ask(self, request: Request, timeout: float) -> Outcome:
        """Send ``request`` and have its reply within ``timeout`` seconds, writing and decoding included. A worker
        that cannot be started is tried once more before the call is a :attr:`Status.SANDBOX_ERROR`."""
        for attempt in (1, 2):
            if self.started:
                break
            try:
                self.start()
            except SandboxError as error:
                if attempt == 2:
                    return Outcome(Status.SANDBOX_ERROR, str(error))
        assert self.pipes is not None
        to_worker, from_worker = self.pipes
        deadline = time.monotonic() + timeout
        try:
            protocol.send(to_worker, request, deadline)
            reply: Returned | Raised = protocol.receive(from_worker, (Returned, Raised), deadline)
        except TimeoutError:
            self.kill()
            return Outcome(Status.TIMEOUT, f"did not finish within {timeout:.3g} s")
        except (EOFError, BrokenPipeError):
            return self._death(min(5.0, max(0.05, deadline - time.monotonic())))
        except (wire.WireError, protocol.ProtocolError) as error:
            self.kill()
            problem = clean_text(str(error), 300)
            return Outcome(Status.PROTOCOL_ERROR, f"sent a reply the grader cannot read ({problem})")
        return Outcome(Status.OK if isinstance(reply, Returned) else Status.STUDENT_ERROR, reply=reply)

    def _death(self, grace: float) -> Outcome:
        """Why the worker closed its channel: its exit status, given what is left of the call's time (at most 5 s)
        to exit by itself. One that had to be killed closed the channel and ran on: a timeout."""
        status, killed = self.kill(grace)
        if killed:  # still running when the call's time was up, its channel to the grader closed
            return Outcome(
                Status.TIMEOUT,
                "did not finish within the test's time, and closed the worker's channel to the grader (a module must "
                "leave the grader's file descriptors alone)",
            )
        code = os.waitstatus_to_exitcode(status) if status is not None else -signal.SIGKILL
        number = -code if code < 0 else 0
        if number == signal.SIGXCPU:
            return Outcome(Status.TIMEOUT, "used more CPU time than the test allows")
        if number == signal.SIGKILL:
            return Outcome(Status.RESOURCES, "was killed by a resource limit (memory, processes or CPU time)")
        if number == signal.SIGXFSZ:
            return Outcome(Status.RESOURCES, f"wrote a file larger than {self.limits.max_file_bytes >> 20} MiB")
        if number:
            return Outcome(Status.DIED, f"crashed with signal {signal.Signals(number).name}")
        return Outcome(Status.DIED, f"ended the worker process (exit code {code}); a module must not exit")

    def kill(self, grace: float = 0.0) -> tuple[int | None, bool]:
        """End the worker and everything it started; its wait status when the zygote could tell, and whether it was
        still running after ``grace`` seconds (then killed)."""
        status, killed = None, False
        if self.pid is not None and self.zygote is not None:
            with contextlib.suppress(SandboxError):
                reaped = self.zygote.reap(self.pid, grace)
                status, killed = reaped.status, reaped.killed
        self.pid = None
        for fd in self.pipes or ():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pipes = None
        if self.drainer is not None:
            self.drainer.join(timeout=1.0)
            self.drainer = None
        return status, killed

    def close(self) -> None:
        """End the worker; its zygote cleans up after it while the grader goes on (:meth:`ZygoteClient.reap_later`)."""
        if self.pid is not None and self.zygote is not None:
            with contextlib.suppress(SandboxError):
                self.zygote.reap_later(self.pid)
            self.pid = None
            self.drainer = None  # what the worker prints while it dies is read by nobody: no wait for it
        self.kill()
        if self.zygote is not None:
            ZYGOTES.give_back(self.zygote)
            self.zygote = None
