"""The :class:`Student` of a real submission: calls go to the sandboxed worker, replies are checked here."""

from __future__ import annotations

import time
from typing import Any

from grader import wire
from grader.feedback import Feedback, GradingFailure
from grader.limits import Limits
from grader.sandbox import Sandbox, SandboxError, WorkerDied, WorkerTimeout, clean_text
from grader.student import Call, same

MAX_PRINTED = 8192
TIMEOUTS_BEFORE_GIVING_UP = 2
"""After this many calls of one function that hung or ended the worker, its later calls fail at once instead of
waiting (or re-importing the module) again."""


class SubmissionWorker:
    """One sandboxed worker for all of a submission's modules, replaced whenever it hangs or dies.

    A module whose import hangs or kills the worker is remembered, so that its later calls fail at
    once instead of restarting the worker for each test; so is a function that ran out of time or ended the
    worker in ``TIMEOUTS_BEFORE_GIVING_UP`` tests, so that one endless loop (or a function that exits, making every
    later test re-import the module) costs a few time limits, not one per test. An import has the test's own time.
    """

    def __init__(self, sources: dict[str, str], rules: dict[str, dict[str, bool]], limits: Limits) -> None:
        self.sandbox = Sandbox(sources, rules, limits)
        self.imported: set[str] = set()
        self.ended = False
        """Whether the last request hung or ended the worker (which was then replaced)."""
        self.broken_imports: dict[str, Feedback] = {}
        self.timeouts: dict[str, int] = {}
        self.printed: dict[str, str] = {}
        self.worker_output = ""

    @property
    def isolation(self) -> str:
        return self.sandbox.isolation.describe()

    def ask(self, module: str, message: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        """The worker's reply to ``message``, or a :class:`GradingFailure` saying what went wrong.

        The module is imported by a request of its own first, so that a hang or an exit is charged to
        the import or to the call, whichever it happened in.
        """
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
                self._record_printed(
                    module,
                    self._request({"op": "import", "module": module}, timeout, f"importing {module}.py"),
                )
            except GradingFailure as failure:
                self.broken_imports[module] = failure.feedback.model_copy(
                    update={
                        "kind": "import" if failure.feedback.kind == "exception" else failure.feedback.kind,
                        "message": f"{failure.feedback.message}; no function of {module}.py can be graded",
                    }
                )
                raise GradingFailure(self.broken_imports[module]) from None
            self.imported.add(module)
        try:
            return self._record_printed(module, self._request(message, timeout, what))
        except GradingFailure:
            if self.ended:
                self.timeouts[function] = self.timeouts.get(function, 0) + 1
            raise

    def _record_printed(self, module: str, reply: dict[str, Any]) -> dict[str, Any]:
        printed = reply.get("stdout")
        if isinstance(printed, str) and printed:
            self.printed[module] = clean_text(self.printed.get(module, "") + printed, MAX_PRINTED)
        return reply

    def _request(self, message: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        """One request; the worker is replaced after a hang or a death, and a failed start is retried once."""
        self.ended = False
        for attempt in (1, 2):
            try:
                reply = self.sandbox.request(message, timeout)
                break
            except SandboxError as error:
                self._restart()
                if attempt == 2:
                    raise GradingFailure(
                        Feedback(
                            kind="sandbox",
                            message=f"the grader could not run your code (not your fault; ask for a regrade): {error}",
                        )
                    ) from None
            except (WorkerTimeout, WorkerDied) as error:
                self._restart()
                self.ended = True
                kind = error.kind if isinstance(error, WorkerDied) else "timeout"
                text = str(error) if isinstance(error, WorkerDied) else f"did not finish within {timeout:.3g} s"
                raise GradingFailure(Feedback(kind=kind, message=f"{what} {text}")) from None
            except wire.WireError as error:
                self._restart()
                raise malformed_reply(what, str(error)) from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise GradingFailure(
                Feedback(kind="exception", message=f"the worker running {what} sent a malformed reply")
            )
        return reply

    def _restart(self) -> None:
        """Stop the worker; the next request starts a fresh one, which imports modules anew."""
        self.worker_output += self.sandbox.printed()
        self.sandbox.close()
        self.sandbox.output.clear()
        self.imported.clear()

    def output(self) -> str:
        """What the worker processes wrote outside Python's own streams (``os.write(1, ...)``), capped."""
        return clean_text(self.worker_output + self.sandbox.printed(), MAX_PRINTED)

    def close(self) -> None:
        self.sandbox.close()


class WorkerStudent:
    """One module of a submission, graded through a :class:`SubmissionWorker`."""

    def __init__(self, worker: SubmissionWorker, module: str, violations: dict[str | None, list[str]]) -> None:
        self.worker = worker
        self.module = module
        self.violations = violations
        self.deadline = time.monotonic() + 60.0
        self.time_limit = 60.0

    def start_test(self, seconds: float) -> None:
        self.time_limit = seconds
        self.deadline = time.monotonic() + seconds

    def _reply(self, message: dict[str, Any], what: str) -> dict[str, Any]:
        remaining = max(0.05, self.deadline - time.monotonic())
        reply = self.worker.ask(self.module, message, remaining, what)
        if not reply["ok"]:
            kind = reply.get("kind")
            allowed = {"missing", "import", "signature", "not_implemented", "exception", "resources", "rule"}
            raise GradingFailure(
                Feedback(
                    kind=kind if kind in allowed else "exception",
                    message=clean_text(str(reply.get("message", "")), 2000),
                    exception=clean_text(str(reply["exception"]), 100) if reply.get("exception") else None,
                    traceback=clean_text(str(reply.get("traceback", "")), 4000) or None,
                )
            )
        violations = reply.get("violations")
        if violations:
            raise GradingFailure(
                Feedback(
                    kind="rule", message=f"{what} broke a rule of the contract: {clean_text(str(violations[0]), 500)}"
                )
            )
        return reply

    def call(self, function: str, *args: Any, watch: bool = False) -> Call:
        static = self.violations.get(function, []) + self.violations.get(None, [])
        if static:
            raise GradingFailure(
                Feedback(kind="rule", message=f"{function} breaks a rule of the contract: " + "; ".join(static[:3]))
            )
        message = {
            "op": "call",
            "module": self.module,
            "function": function,
            "args": list(args),
            "cpu_seconds": self.time_limit,
            "watch": watch,
        }
        reply = self._reply(message, function)
        mutated = self._mutated(function, args, reply) if watch else []
        return Call(value=reply.get("value"), mutated=mutated)

    def _mutated(self, function: str, args: tuple[Any, ...], reply: dict[str, Any]) -> list[int]:
        """Which arguments differ from what the grader sent, judged here from the arguments the worker sent back."""
        returned = reply.get("args")
        if not isinstance(returned, list) or len(returned) != len(args):
            raise malformed_reply(function)
        return [i for i, (before, after) in enumerate(zip(args, returned, strict=True)) if not same(before, after)]

    def constant(self, name: str) -> Any:
        return self._reply({"op": "constant", "module": self.module, "name": name}, name).get("value")


def malformed_reply(what: str, problem: str = "") -> GradingFailure:
    """The failure of a call whose reply is not what an honest worker sends."""
    detail = f" ({problem})" if problem else ""
    return GradingFailure(
        Feedback(
            kind="exception",
            message=f"the worker running {what} sent a malformed reply{detail}: "
            "code must not interfere with the grader",
        )
    )
