"""The worker: the only process that imports a submission. It answers the grader's calls over two pipes.

It is forked by the zygote (:mod:`~grader.sandbox.inside.zygote`) inside the sandbox, already as an unprivileged
user under resource limits and the system-call filter. Its first message (:class:`~.protocol.Setup`) brings the
submission's modules, written to a fresh folder of the sandbox's scratch space, and the rules this worker serves:
they are made true (:mod:`~grader.sandbox.inside.rules`) before anything else, so before any student code runs.
It never sees a test, the reference or the seed. Once student code has run, nothing here is trusted: the grader
checks every reply.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import inspect
import io
import os
import random
import resource
import sys
import time
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch

from grader.sandbox.inside import models, protocol, rules, wire
from grader.sandbox.inside.protocol import (
    CallFunction,
    Forget,
    Import,
    LoadParameters,
    Raised,
    ReadParameters,
    Ready,
    Request,
    Returned,
    Setup,
)

MAX_PRINTED = 8192
AUTOGRAD_OFF = "does not require grad"
"""How torch words a backward pass over a graph it never recorded: where gradients are off for good, a rule."""
NO_THREAD = "can't start new thread"
"""How Python words a thread the system-call filter refused (:func:`grader.sandbox.seccomp.thread_filter`)."""


class CappedText(io.StringIO):
    """A text stream that keeps the first ``MAX_PRINTED`` characters written to it."""

    def write(self, text: str) -> int:
        room = MAX_PRINTED - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


def student_traceback(error: BaseException, filename: str) -> str:
    """The frames of ``error``'s traceback that are in the student's ``filename``, and the error itself."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return "".join(traceback.format_list(frames) + traceback.format_exception_only(type(error), error)).rstrip()


@dataclasses.dataclass(frozen=True)
class TorchSettings:
    """What of torch's process-wide state a module's code commonly sets (at import, say) and another module's
    results would then depend on: its default dtype and device, deterministic algorithms, float32 matmul
    precision, gradient mode (where no rule holds it off)."""

    dtype: torch.dtype
    device: torch.device
    deterministic: bool
    warn_only: bool
    matmul_precision: str
    grad: bool

    @classmethod
    def now(cls) -> TorchSettings:
        return cls(
            torch.get_default_dtype(),
            torch.get_default_device(),
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.get_float32_matmul_precision(),
            torch.is_grad_enabled(),
        )

    def restore(self) -> None:
        """Put back what differs, and only that: setting the default device, even to the one in force, puts a mode
        in front of every torch call that makes each one about twice as slow."""
        now = TorchSettings.now()
        if now.dtype != self.dtype:
            torch.set_default_dtype(self.dtype)
        if now.device != self.device:
            torch.set_default_device(self.device)
        if (now.deterministic, now.warn_only) != (self.deterministic, self.warn_only):
            torch.use_deterministic_algorithms(self.deterministic, warn_only=self.warn_only)
        if now.matmul_precision != self.matmul_precision:
            torch.set_float32_matmul_precision(self.matmul_precision)
        if self.grad and not now.grad:  # where gradients are off for good, they stay off without a word
            torch.set_grad_enabled(True)


class WorkerServer:
    """Imports the submission's modules on demand and runs the grader's calls into them. Before the first request
    for a module other than the last one's, torch's settings are put back as they were when the worker started
    (:class:`TorchSettings`): what one module's code set is not the next one's to inherit."""

    def __init__(self, folder: str, rules_in_force: dict[str, bool]) -> None:
        self.folder = folder
        self.rules = rules_in_force
        self.modules: dict[str, ModuleType | Raised] = {}
        self.signatures: dict[int, tuple[Any, inspect.Signature]] = {}
        self.kept: dict[int, Any] = {}
        """The objects calls were asked to keep, by the grader's numbers."""
        self.printed = CappedText()
        self.settings = TorchSettings.now()
        self.current: str | None = None
        """The module of the last request that named one."""
        sys.path.insert(0, folder)

    def failure(
        self, kind: protocol.StudentError, message: str, error: BaseException | None = None, filename: str = ""
    ) -> Raised:
        trace = student_traceback(error, filename) if error is not None else ""
        return Raised(kind=kind, message=message, printed="", traceback=trace)

    def classify(self, error: BaseException, what: str, filename: str) -> Raised:
        text = f"{type(error).__name__}: {error}"
        if isinstance(error, NotImplementedError):
            return self.failure("not_implemented", f"{what} is not implemented yet (it raises NotImplementedError)")
        if isinstance(error, rules.RuleViolation):
            return self.failure("rule", f"{what} broke a rule of the contract: {error}", error, filename)
        if self.rules.get("no_autograd") and AUTOGRAD_OFF in str(error):
            rules.REFUSED.add("no_autograd")
            message = f"{what} used autograd, which is off in this module ({rules.RULE_NAMES['no_autograd']})"
            return self.failure("rule", message, error, filename)
        if self.rules.get("no_autograd") and NO_THREAD in str(error):
            rules.REFUSED.add("no_autograd")
            message = f"{what} started a thread, which would switch gradients on ({rules.RULE_NAMES['no_autograd']})"
            return self.failure("rule", message, error, filename)
        if isinstance(error, MemoryError) or "can't allocate memory" in str(error) or "not enough memory" in str(error):
            return self.failure("resources", f"{what} ran out of memory: {text[:300]}", error, filename)
        if isinstance(error, SystemExit):
            message = f"{what} called exit({error.code!r}); a module must not exit"
            return self.failure("exception", message, error, filename)
        failed = self.failure("exception", f"{what} raised {text[:500]}", error, filename)
        return dataclasses.replace(failed, exception=type(error).__name__)

    def module(self, name: str) -> ModuleType | Raised:
        if name not in self.modules:
            path = os.path.join(self.folder, f"{name}.py")
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
                self.modules[name] = module
            except BaseException as error:
                sys.modules.pop(name, None)
                failed = self.classify(error, f"importing {name}.py", path)
                message = failed.message
                if not isinstance(error, SystemExit):
                    message = f"{name}.py failed to import: {type(error).__name__}: {str(error)[:500]}"
                kind: protocol.StudentError = "rule" if failed.kind == "rule" else "import"
                self.modules[name] = Raised(kind=kind, message=message, printed="", traceback=failed.traceback)
        return self.modules[name]

    def lookup(self, module_name: str, name: str) -> tuple[Any, Raised | None]:
        module = self.module(module_name)
        if isinstance(module, Raised):
            return None, module
        if not hasattr(module, name):
            return None, self.failure("missing", f"{module_name}.py does not define {name}")
        return getattr(module, name), None

    def signature(self, fn: Any) -> inspect.Signature:
        """``fn``'s signature, worked out once per function (tests call the same functions again and again)."""
        known = self.signatures.get(id(fn))
        if known is None or known[0] is not fn:
            known = self.signatures[id(fn)] = (fn, inspect.signature(fn))
        return known[1]

    def limit_cpu(self, seconds: float) -> None:
        """Let the coming student code use ``seconds`` more of CPU (then SIGXCPU ends the worker). The CPU used so far
        is the process's clock, what ``RLIMIT_CPU`` counts (``getrusage`` tells the same, at up to 0.3 ms a call)."""
        used = time.process_time()
        resource.setrlimit(resource.RLIMIT_CPU, (int(used + seconds) + 1, resource.getrlimit(resource.RLIMIT_CPU)[1]))

    def object(self, handle: int, what: str) -> tuple[Any, Raised | None]:
        if handle not in self.kept:
            return None, self.failure("missing", f"{what}: the object it needs is no longer kept")
        return self.kept[handle], None

    @staticmethod
    def file_of(fn: Any) -> str:
        return getattr(inspect.getmodule(fn), "__file__", "") or ""

    def callee(self, request: CallFunction) -> tuple[Any, str, Raised | None]:
        """What ``request`` calls, and the file whose frames its traceback keeps."""
        if request.target is None:
            fn, failed = self.lookup(request.module, request.function)
            if failed is None and not callable(fn):
                what = f"{request.function} in {request.module}.py is a {wire.type_name(fn)}"
                failed = self.failure("missing", f"{what}, not a function")
            return fn, self.file_of(fn), failed
        owner, failed = self.object(request.target, request.function)
        if failed is not None:
            return None, "", failed
        if (problem := models.no_method(owner, request.function)) is not None:
            return None, "", self.failure("missing", problem)
        return getattr(owner, request.function), self.file_of(getattr(type(owner), request.function)), None

    def call(self, request: CallFunction) -> Returned | Raised:
        fn, filename, failed = self.callee(request)
        if failed is not None:
            return failed
        args = list(request.args)
        for position, handle in request.kept.items():
            if not position.isdigit() or int(position) >= len(args):
                return self.failure("missing", f"{request.function}: no argument {position[:20]!r} to put an object in")
            args[int(position)], failed = self.object(handle, request.function)
            if failed is not None:
                return failed
        try:
            method = request.target is not None  # a bound method is made anew each time: not worth remembering
            signature: inspect.Signature | None = inspect.signature(fn) if method else self.signature(fn)
        except Exception:  # a callable without a signature Python can tell, or one whose signature raises
            signature = None
        if signature is not None:
            try:
                signature.bind(*args)
            except TypeError as error:
                return self.failure(
                    "signature",
                    f"{request.function}{signature} cannot be called with the contract's "
                    f"{len(args)} positional arguments: {error}",
                )
        if request.seed is not None:
            torch.manual_seed(request.seed)
            random.seed(request.seed)
        self.limit_cpu(request.cpu_seconds)
        try:
            value = fn(*args)
        except BaseException as error:
            return self.classify(error, request.function, filename)
        if request.keep is not None:
            self.kept[request.keep], value = value, None
        if not request.watch:
            return Returned(value=wire.export(value), args=[], printed="")
        watched = [None if str(i) in request.kept else wire.export(a) for i, a in enumerate(args)]
        return Returned(value=wire.export(value), args=watched, printed="")

    def parameters(self, request: ReadParameters | LoadParameters) -> Returned | Raised:
        """Read a kept module's parameters, or load tensors into them (:mod:`~grader.sandbox.inside.models`)."""
        model, failed = self.object(request.handle, "its parameters")
        if failed is not None:
            return failed
        if (problem := models.problem(model)) is not None:
            return self.failure("signature", problem)
        self.limit_cpu(request.cpu_seconds)
        try:
            if isinstance(request, ReadParameters):
                value = {name: wire.export(p) for name, p in models.read(model).items()}
                return Returned(value=value, args=[], printed="")
            if (problem := models.load(model, request.values)) is not None:
                return self.failure("signature", problem)
        except BaseException as error:
            return self.classify(error, f"{type(model).__name__}'s parameters", self.file_of(type(model)))
        return Returned(value=None, args=[], printed="")

    def answer(self, request: Request) -> Returned | Raised:
        """The reply to ``request``, with what the student's code printed while it ran and the rules whose refusal
        it met."""
        self.printed.seek(0)
        self.printed.truncate()
        rules.REFUSED.clear()
        named = getattr(request, "module", None)
        if named is not None and named != self.current:
            if self.current is not None:
                self.settings.restore()
            self.current = named
        with contextlib.redirect_stdout(self.printed), contextlib.redirect_stderr(self.printed):
            if isinstance(request, Import):
                module = self.module(request.module)
                reply = module if isinstance(module, Raised) else Returned(value=None, args=[], printed="")
            elif isinstance(request, CallFunction):
                reply = self.call(request)
            elif isinstance(request, ReadParameters | LoadParameters):
                reply = self.parameters(request)
            elif isinstance(request, Forget):
                for handle in request.handles:
                    self.kept.pop(handle, None)
                reply = Returned(value=None, args=[], printed="")
            else:
                value, failed = self.lookup(request.module, request.name)
                reply = failed or Returned(value=wire.export(value), args=[], printed="")
        return dataclasses.replace(reply, printed=self.printed.getvalue(), refused=sorted(rules.REFUSED))


def write_sources(sources: dict[str, str], scratch: str) -> str:
    """``scratch/submission``, holding each module's source as ``<name>.py`` (the zygote wipes ``scratch`` between
    workers, so the name is free and the same for every submission)."""
    folder = os.path.join(scratch, "submission")
    os.mkdir(folder)
    for name, source in sources.items():
        with open(os.path.join(folder, f"{name}.py"), "w", encoding="utf-8", errors="surrogatepass") as file:
            file.write(source)
    return folder


def serve(in_fd: int, out_fd: int, scratch: str, targets: rules.Targets, confine_threads: Callable[[], None]) -> None:
    """Answer one submission's requests until the grader closes the channel. The first message is its
    :class:`Setup`: its rules are in force (``confine_threads()`` refuses new threads where gradients are off)
    before the modules are even written."""
    setup: Setup = protocol.receive(in_fd, (Setup,))
    if setup.max_processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (setup.max_processes, setup.max_processes))
    rules.enforce(setup.rules, targets)
    if setup.rules.get("no_autograd"):
        confine_threads()
    worker = WorkerServer(write_sources(setup.sources, scratch), setup.rules)
    protocol.send(out_fd, Ready())
    while True:
        try:
            request: Request = protocol.receive(in_fd, protocol.REQUESTS)
        except EOFError:
            return
        protocol.send(out_fd, worker.answer(request))
