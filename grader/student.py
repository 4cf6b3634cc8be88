"""How a test reaches a submission: the :class:`Student` interface and its in-process form for trusted code.

Tests never import a submission. They ask a ``Student`` to call a function by name with plain data (a call may
*keep* what it returns, a model or an optimizer, where the student's code runs: the test gets a :class:`Kept` handle
to pass back, to call its methods and to read or load its parameters);
the sandboxed worker (untrusted code) and :class:`LocalStudent` (the reference, starters and mutants,
which are ours) both answer the same way: a :class:`Call`, or a :class:`GradingFailure` saying what the
student's code did wrong (missing, failed to import, raised, ran out of time).
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import random
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import torch

from grader.feedback import Feedback, GradingFailure
from grader.reference_results import clone
from grader.sandbox.inside import models


@dataclass(frozen=True)
class Call:
    """What one call returned, and which positional arguments it changed in place."""

    value: Any
    mutated: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Kept:
    """An object a call of the student's made and kept (a model, an optimizer): where the student's code runs, the
    test holds only this handle, for the rest of the test."""

    handle: int
    made_by: str
    """The function or class that made it, for messages."""


class Student(Protocol):
    """A submission's module, reached by name."""

    module: str

    def start_test(self, seconds: float) -> None:
        """A test begins: its calls together may take at most ``seconds`` of wall time; the objects kept in the
        test before are dropped."""
        ...

    def call(self, function: str, *args: Any, watch: bool = False, keep: bool = False, seed: int | None = None) -> Call:
        """Call ``function`` positionally (an argument may be a :class:`Kept`); raise :class:`GradingFailure` when
        the student's code fails. ``watch``: also tell which arguments the call modified in place; ``keep``: keep
        the result, whose value is then a :class:`Kept`; ``seed``: seed torch's and Python's generators first."""
        ...

    def method(self, target: Kept, name: str, *args: Any, seed: int | None = None) -> Call:
        """Call the kept object's method ``name``, as :meth:`call` does a function."""
        ...

    def parameters(self, model: Kept) -> dict[str, torch.Tensor]:
        """The kept model's parameters by name, as copies."""
        ...

    def load_parameters(self, model: Kept, values: dict[str, torch.Tensor]) -> None:
        """Copy ``values`` into the kept model's parameters, which must have exactly these names and shapes."""
        ...

    def constant(self, name: str) -> Any:
        """The module-level value ``name``."""
        ...


def same(a: Any, b: Any) -> bool:
    """Whether two argument values are identical, tensors bit for bit (NaN equal to NaN)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        equal = a == b
        if a.is_floating_point():
            equal |= a.isnan() & b.isnan()
        return bool(equal.all())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def call_and_watch(fn: Any, args: tuple[Any, ...]) -> Call:
    """Call ``fn(*args)`` and report which arguments it modified in place."""
    before = clone(args)
    value = fn(*args)
    return Call(value=value, mutated=[i for i, (a, b) in enumerate(zip(args, before, strict=True)) if not same(a, b)])


def student_traceback(error: BaseException, filename: str) -> str:
    """The traceback of ``error`` cut down to the frames in the student's own file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()


def failure_from_exception(error: BaseException, function: str, filename: str) -> GradingFailure:
    """Feedback for an exception raised by the student's ``function``."""
    trace = student_traceback(error, filename)
    if isinstance(error, NotImplementedError):
        return GradingFailure(
            Feedback(
                kind="not_implemented",
                function=function,
                message=f"{function} is not implemented yet (it raises NotImplementedError)",
            )
        )
    return GradingFailure(
        Feedback(
            kind="exception",
            function=function,
            traceback=trace,
            exception=type(error).__name__,
            message=f"{function} raised {type(error).__name__}: {error}",
        )
    )


_unique = itertools.count()


def import_module_from(path: Path, name: str | None = None) -> ModuleType:
    """Import the file ``path`` as a fresh module that no other import shares."""
    module_name = name or f"_graded_{path.stem}_{next(_unique)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    return module


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """torch's and Python's generators seeded with ``seed`` inside, as they were before outside (this process
    grades others too)."""
    if seed is None:
        yield
        return
    state = random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(state)


class LocalStudent:
    """A module run in this process: for trusted code only (the reference, starters, mutants)."""

    def __init__(self, path: Path, module: ModuleType | None = None) -> None:
        self.path = path
        self.module = path.stem
        self._loaded: ModuleType | GradingFailure | None = module
        self.kept: dict[int, Any] = {}

    @classmethod
    def of_module(cls, module: ModuleType) -> LocalStudent:
        """A student whose code is ``module``, already imported (a mutant of the reference)."""
        return cls(Path(module.__file__ or module.__name__), module)

    def start_test(self, seconds: float) -> None:
        """Trusted code runs unlimited."""
        self.kept.clear()

    def _load(self) -> ModuleType:
        if self._loaded is None:
            try:
                self._loaded = import_module_from(self.path)
            except Exception as error:
                self._loaded = GradingFailure(
                    Feedback(
                        kind="import",
                        message=f"{self.path.name} failed to import: {type(error).__name__}: {error}",
                        traceback=student_traceback(error, str(self.path)),
                    )
                )
        if isinstance(self._loaded, GradingFailure):
            raise self._loaded
        return self._loaded

    def _lookup(self, name: str) -> Any:
        module = self._load()
        if not hasattr(module, name):
            raise GradingFailure(
                Feedback(kind="missing", function=name, message=f"{self.path.name} does not define {name}")
            )
        return getattr(module, name)

    def _object(self, kept: Kept) -> Any:
        if kept.handle not in self.kept:
            raise GradingFailure(Feedback(kind="exception", message=f"the object {kept.made_by} made is gone"))
        return self.kept[kept.handle]

    def _run(self, fn: Any, name: str, args: tuple[Any, ...], watch: bool, keep: bool, seed: int | None) -> Call:
        """``fn`` on copies of the plain arguments and the kept objects themselves, as a sandboxed student gets
        them: the test module's values serve every submission the process grades, and one submission's in-place
        changes must not reach the next."""
        copies = clone([None if isinstance(a, Kept) else a for a in args])
        given = tuple(self._object(a) if isinstance(a, Kept) else c for a, c in zip(args, copies, strict=True))
        try:
            with seeded(seed):
                call = call_and_watch(fn, given) if watch else Call(value=fn(*given))
        except Exception as error:
            raise failure_from_exception(error, name, str(self.path)) from None
        if watch:  # a kept object is the student's to change (a training step updates its model)
            call = Call(call.value, [i for i in call.mutated if not isinstance(args[i], Kept)])
        if keep:
            handle = len(self.kept)
            self.kept[handle] = call.value
            return Call(value=Kept(handle, name), mutated=call.mutated)
        return call

    def call(self, function: str, *args: Any, watch: bool = False, keep: bool = False, seed: int | None = None) -> Call:
        return self._run(self._lookup(function), function, args, watch, keep, seed)

    def method(self, target: Kept, name: str, *args: Any, seed: int | None = None) -> Call:
        owner = self._object(target)
        if (problem := models.no_method(owner, name)) is not None:
            raise GradingFailure(Feedback(kind="missing", message=problem))
        return self._run(getattr(owner, name), f"{target.made_by}.{name}", args, False, False, seed)

    def _model(self, model: Kept) -> torch.nn.Module:
        owner = self._object(model)
        if (problem := models.problem(owner)) is not None:
            raise GradingFailure(Feedback(kind="signature", message=problem))
        return owner

    def parameters(self, model: Kept) -> dict[str, torch.Tensor]:
        return models.read(self._model(model))

    def load_parameters(self, model: Kept, values: dict[str, torch.Tensor]) -> None:
        if (problem := models.load(self._model(model), values)) is not None:
            raise GradingFailure(Feedback(kind="signature", message=problem))

    def constant(self, name: str) -> Any:
        return self._lookup(name)
