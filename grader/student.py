"""How a test reaches a submission: the :class:`Student` interface and its in-process form for trusted code.

Tests never import a submission. They ask a ``Student`` to call a function by name with plain data;
the sandboxed worker (untrusted code) and :class:`LocalStudent` (the reference, starters and mutants,
which are ours) both answer the same way: a :class:`Call`, or a :class:`GradingFailure` saying what the
student's code did wrong (missing, failed to import, raised, ran out of time).
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import torch

from grader.feedback import Feedback, GradingFailure


@dataclass(frozen=True)
class Call:
    """What one call returned, and which positional arguments it changed in place."""

    value: Any
    mutated: list[int] = field(default_factory=list)


class Student(Protocol):
    """A submission's module, reached by name."""

    module: str

    def start_test(self, seconds: float) -> None:
        """A test begins: its calls together may take at most ``seconds`` of wall time."""
        ...

    def call(self, function: str, *args: Any, watch: bool = False) -> Call:
        """Call ``function`` positionally; raise :class:`GradingFailure` when the student's code fails. With
        ``watch``, also tell which arguments the call modified in place."""
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
    before = copy.deepcopy(args)
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


class LocalStudent:
    """A module run in this process: for trusted code only (the reference, starters, mutants)."""

    def __init__(self, path: Path, module: ModuleType | None = None) -> None:
        self.path = path
        self.module = path.stem
        self._loaded: ModuleType | GradingFailure | None = module

    @classmethod
    def of_module(cls, module: ModuleType) -> LocalStudent:
        """A student whose code is ``module``, already imported (a mutant of the reference)."""
        return cls(Path(module.__file__ or module.__name__), module)

    def start_test(self, seconds: float) -> None:
        """Trusted code runs unlimited."""

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

    def call(self, function: str, *args: Any, watch: bool = False) -> Call:
        """The call, on copies of the arguments as a sandboxed student always gets: the test module's values serve
        every submission the process grades, and one submission's in-place changes must not reach the next."""
        fn = self._lookup(function)
        args = copy.deepcopy(args)
        try:
            return call_and_watch(fn, args) if watch else Call(value=fn(*args))
        except Exception as error:
            raise failure_from_exception(error, function, str(self.path)) from None

    def constant(self, name: str) -> Any:
        return self._lookup(name)
