"""The worker: the only process that imports a submission. It answers calls over two pipes.

It is forked by :mod:`grader.zygote` inside the sandbox, already as an unprivileged user with resource
limits set. It imports nothing of the grader but :mod:`grader.wire`, sees only the submission's own
modules (sent as its first message and written to a fresh folder of the sandbox's scratch space), and
never sees a test, the reference or the seed. Once student code has run, nothing here is trusted: the
grader checks every reply.

Requests: ``{"op": "import", "module"}``, ``{"op": "call", "module", "function", "args",
"cpu_seconds", "watch"}`` and ``{"op": "constant", "module", "name"}``. Replies: ``{"ok": True, "value", "args"
(the arguments as the call left them, when ``watch``; else empty), "stdout",
"violations"}`` or ``{"ok": False, "kind", "message", "traceback", "stdout", "violations"}``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import os
import resource
import sys
import traceback
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import torch

from grader import wire

MAX_PRINTED = 8192
RECURRENT_MODULES = ["RNNBase", "RNN", "RNNCellBase", "RNNCell", "GRU", "GRUCell", "LSTM", "LSTMCell"]
RECURRENT_OPS = ["rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell", "gru", "gru_cell", "lstm", "lstm_cell"]
AUTOGRAD_FUNCTIONS = {
    "torch.autograd": ["grad", "backward"],
    "torch.autograd.functional": ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"],
    "torch.func": ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize"],
    "torch": ["enable_grad"],
}


RULE_NAMES = {"no_autograd": "no autograd", "no_recurrent_modules": "no torch recurrent modules or their ops"}


class RuleViolation(Exception):
    """Raised by a guarded torch function that the active module's rules forbid."""


class Guards:
    """Wrappers around the torch functions the contract forbids, active only while a ruled module runs."""

    def __init__(self) -> None:
        self.active: dict[str, bool] = {}
        self.violations: list[str] = []

    def check(self, rule: str, what: str) -> None:
        if self.active.get(rule):
            message = f"{what} is not allowed here ({RULE_NAMES[rule]})"
            self.violations.append(message)
            raise RuleViolation(message)

    def wrap(self, rule: str, what: str, original: Any) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.check(rule, what)
            return original(*args, **kwargs)

        return guarded

    def patch(self, owner: Any, name: str, rule: str, what: str) -> None:
        with contextlib.suppress(AttributeError, TypeError, RuntimeError):
            setattr(owner, name, self.wrap(rule, what, getattr(owner, name)))

    def install(self) -> None:
        import torch.autograd.functional
        import torch.func

        for name in RECURRENT_MODULES:
            for owner in (torch.nn, torch.nn.modules, torch.nn.modules.rnn):
                self.patch(owner, name, "no_recurrent_modules", f"torch.nn.{name}")
        for name in RECURRENT_OPS:
            for owner in (torch, torch._VF, torch._C._VariableFunctions, torch.ops.aten):
                self.patch(owner, name, "no_recurrent_modules", f"torch.{name}")
        owners = {
            "torch": torch,
            "torch.autograd": torch.autograd,
            "torch.func": torch.func,
            "torch.autograd.functional": torch.autograd.functional,
        }
        for owner_name, names in AUTOGRAD_FUNCTIONS.items():
            for name in names:
                self.patch(owners[owner_name], name, "no_autograd", f"{owner_name}.{name}")
        set_grad_enabled = torch.set_grad_enabled

        def guarded_set_grad_enabled(mode: bool) -> Any:
            if mode:
                self.check("no_autograd", "torch.set_grad_enabled(True)")
            return set_grad_enabled(mode)

        torch.set_grad_enabled = guarded_set_grad_enabled  # type: ignore[assignment,misc]
        for name in ("backward", "requires_grad_"):
            self.patch(torch.Tensor, name, "no_autograd", f"Tensor.{name}")
        requires_grad: Any = torch._C.TensorBase.requires_grad

        def set_requires_grad(tensor: torch.Tensor, value: bool) -> None:
            if value:
                self.check("no_autograd", "setting requires_grad")
            requires_grad.__set__(tensor, value)

        torch.Tensor.requires_grad = property(requires_grad.__get__, set_requires_grad)  # type: ignore[assignment]

    @contextlib.contextmanager
    def enforcing(self, rules: dict[str, bool]) -> Iterator[None]:
        with torch.no_grad() if rules.get("no_autograd") else contextlib.nullcontext():
            self.active = dict(rules)
            try:
                yield
            finally:
                self.active = {}


class CappedText(io.StringIO):
    """A text stream that keeps the first ``MAX_PRINTED`` characters written to it."""

    def write(self, text: str) -> int:
        room = MAX_PRINTED - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


class Worker:
    """Imports the submission's modules on demand and runs calls into them."""

    def __init__(self, folder: str, rules: dict[str, dict[str, bool]], guards: Guards) -> None:
        self.folder = folder
        self.rules = rules
        self.modules: dict[str, ModuleType | dict[str, Any]] = {}
        self.guards = guards
        self.signatures: dict[int, tuple[Any, inspect.Signature]] = {}
        sys.path.insert(0, folder)

    def failure(
        self, kind: str, message: str, error: BaseException | None = None, filename: str = ""
    ) -> dict[str, Any]:
        trace = ""
        if error is not None:
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
            trace = "".join(traceback.format_list(frames) + traceback.format_exception_only(type(error), error))
        return {"ok": False, "kind": kind, "message": message, "traceback": trace.rstrip()}

    def classify(self, error: BaseException, what: str, filename: str) -> dict[str, Any]:
        text = f"{type(error).__name__}: {error}"
        if isinstance(error, NotImplementedError):
            return self.failure("not_implemented", f"{what} is not implemented yet (it raises NotImplementedError)")
        if isinstance(error, RuleViolation):
            return self.failure("rule", f"{what} broke a rule of the contract: {error}", error, filename)
        if isinstance(error, MemoryError) or "can't allocate memory" in str(error) or "not enough memory" in str(error):
            return self.failure("resources", f"{what} ran out of memory: {text[:300]}", error, filename)
        if isinstance(error, SystemExit):
            return self.failure(
                "exception", f"{what} called exit({error.code!r}); a module must not exit", error, filename
            )
        return {
            **self.failure("exception", f"{what} raised {text[:500]}", error, filename),
            "exception": type(error).__name__,
        }

    def module(self, name: str) -> ModuleType | dict[str, Any]:
        if name not in self.modules:
            path = os.path.join(self.folder, f"{name}.py")
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                with self.guards.enforcing(self.rules.get(name, {})):
                    spec.loader.exec_module(module)
                self.modules[name] = module
            except BaseException as error:
                sys.modules.pop(name, None)
                failed = self.classify(error, f"importing {name}.py", path)
                failed["kind"] = "rule" if failed["kind"] == "rule" else "import"
                if not isinstance(error, SystemExit):
                    failed["message"] = f"{name}.py failed to import: {type(error).__name__}: {str(error)[:500]}"
                self.modules[name] = failed
        return self.modules[name]

    def lookup(self, module_name: str, name: str) -> tuple[Any, dict[str, Any] | None]:
        module = self.module(module_name)
        if isinstance(module, dict):
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

    def call(self, module_name: str, function: str, args: list[Any], cpu_seconds: float, watch: bool) -> dict[str, Any]:
        fn, failed = self.lookup(module_name, function)
        if failed is not None:
            return failed
        if not callable(fn):
            return self.failure("missing", f"{function} in {module_name}.py is a {wire.type_name(fn)}, not a function")
        try:
            signature: inspect.Signature | None = self.signature(fn)
        except Exception:  # a callable without a signature Python can tell, or one whose signature raises
            signature = None
        if signature is not None:
            try:
                signature.bind(*args)
            except TypeError as error:
                return self.failure(
                    "signature",
                    f"{function}{signature} cannot be called with the contract's "
                    f"{len(args)} positional arguments: {error}",
                )
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        soft = int(used + cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))
        try:
            with self.guards.enforcing(self.rules.get(module_name, {})):
                value = fn(*args)
        except BaseException as error:
            return self.classify(error, function, getattr(inspect.getmodule(fn), "__file__", "") or "")
        if self.rules.get(module_name, {}).get("no_autograd") and any(
            isinstance(t, torch.Tensor) and t.requires_grad for t in flatten(value)
        ):
            self.guards.violations.append("a returned tensor requires grad (no autograd in this module)")
        return {"ok": True, "value": wire.export(value), "args": [wire.export(a) for a in args] if watch else []}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        self.guards.violations = []
        printed = CappedText()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            if request["op"] == "import":
                module = self.module(request["module"])
                reply = module if isinstance(module, dict) else {"ok": True, "value": None, "args": []}
            elif request["op"] == "call":
                reply = self.call(
                    request["module"],
                    request["function"],
                    request["args"],
                    request["cpu_seconds"],
                    bool(request.get("watch")),
                )
            elif request["op"] == "constant":
                value, failed = self.lookup(request["module"], request["name"])
                reply = failed or {"ok": True, "value": wire.export(value), "args": []}
            else:
                reply = self.failure("sandbox", f"unknown request {request['op']!r}")
        reply["stdout"] = printed.getvalue()
        reply["violations"] = list(self.guards.violations)
        return reply


def flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            yield from flatten(item)
    else:
        yield value


def write_sources(sources: dict[str, str], scratch: str) -> str:
    """``scratch/submission``, holding each module's source as ``<name>.py`` (the zygote wipes ``scratch`` between
    submissions, so the name is free and the same for every submission)."""
    folder = os.path.join(scratch, "submission")
    os.mkdir(folder)
    for name, source in sources.items():
        with open(os.path.join(folder, f"{name}.py"), "w", encoding="utf-8", errors="surrogatepass") as file:
            file.write(source)
    return folder


def serve(in_fd: int, out_fd: int, scratch: str, guards: Guards) -> None:
    """Answer one submission's requests until the grader closes the channel; the first message carries the
    submission's sources, its rules and the process limit."""
    setup = wire.receive(in_fd)
    if setup.get("max_processes"):
        resource.setrlimit(resource.RLIMIT_NPROC, (setup["max_processes"], setup["max_processes"]))
    worker = Worker(write_sources(setup["sources"], scratch), setup["rules"], guards)
    wire.send(out_fd, {"ok": True, "ready": True})
    while True:
        try:
            request = wire.receive(in_fd)
        except EOFError:
            return
        wire.send(out_fd, worker.handle(request))
