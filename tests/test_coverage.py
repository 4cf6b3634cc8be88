"""Saturating inputs: every function whose equations hold a tanh, a sigmoid, a softmax or an exp has hidden tests
whose pre-activations are far beyond where a naive exp overflows, in float64 and float32. A submission that is right
but for a naive form (tanh as (e^2z - 1) / (e^2z + 1), the sigmoid as e^z / (1 + e^z), the softmax without its
shift) loses exactly those tests; one written differently but stably, and the reference computed in float64, lose
none."""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from grader.diagnosis import diagnoser
from grader.results import AssignmentResult
from grader.runner import grade_assignment
from grader.spec import Course
from grader.student import Call, LocalStudent, import_module_from
from grader.suite import collect

SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
SATURATING = re.compile(r"saturated|huge|large")
"""The hidden tests with saturating inputs, by name."""

EXPONENTIAL = {
    "rnn_forward": {"rnn_cell", "rnn_forward", "scalar_rnn"},
    "bptt": {"scalar_rnn_gradients", "rnn_backward"},
    "gated_cells": {"gru_cell", "lstm_cell", "gru_forward", "lstm_forward"},
    "taxonomy": {"many_to_one_loss", "many_to_many_loss", "one_to_many_loss"},
    "attention": {"additive_scores", "attention_weights", "attend"},
}
"""The functions whose equations hold a tanh, a sigmoid, a softmax or an exp (shapes has none)."""

SCALAR = {"scalar_rnn", "scalar_rnn_gradients"}
"""Functions of plain Python floats: float64 only."""

UNSTABLE = {
    ("overflowing_tanh", "rnn_forward"): {"cell", "forward", "scalar"},
    ("overflowing_tanh", "bptt"): {"scalar", "many_to_many", "many_to_one", "truncated"},
    ("overflowing_tanh", "gated_cells"): {"gru_cell", "lstm_cell", "gru_forward", "lstm_forward"},
    ("overflowing_tanh", "attention"): {"additive"},
    ("naive_sigmoid", "gated_cells"): {"gru_cell", "lstm_cell", "gru_forward", "lstm_forward"},
    ("naive_softmax", "attention"): {"weights", "attend"},
    ("naive_softmax", "taxonomy"): {"many_to_one", "many_to_many", "one_to_many"},
}
"""Each unstable submission's module, and the tasks whose saturating tests it must fail."""


def grade(course: Course, name: str, student: LocalStudent) -> AssignmentResult:
    reference = import_module_from(course.reference_module(name))
    return grade_assignment(course.assignment(name), student, reference, course.spec.seed or 0, "hidden")


class Recording(LocalStudent):
    """The reference as a student, keeping every call's function, arguments and result, test by test."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.tests: list[list[tuple[str, tuple[Any, ...], Any]]] = []

    def start_test(self, seconds: float) -> None:
        self.tests.append([])

    def call(self, function: str, *args: Any, watch: bool = False, keep: bool = False, seed: int | None = None) -> Call:
        call = super().call(function, *args, watch=watch, keep=keep, seed=seed)
        self.tests[-1].append((function, args, call.value))
        return call


def saturating_calls(course: Course, name: str, student: Recording) -> list[tuple[str, str, tuple[Any, ...], Any]]:
    """(test, function, arguments, the reference's result) of every call of the saturating hidden tests ``student``
    recorded."""
    assignment = course.assignment(name)
    tasks = frozenset(t.id for t in assignment.spec.tasks)
    cases = collect(assignment.tests_dir("hidden"), tasks, assignment.test_files("hidden"))  # in the order run
    return [
        (case.nodeid, *call)
        for case, calls in zip(cases, student.tests, strict=True)
        if SATURATING.search(case.nodeid.split("::", 1)[1])
        for call in calls
    ]


def floats(value: Any) -> list[float | torch.Tensor]:
    """The floats and floating-point tensors in a result."""
    if isinstance(value, torch.Tensor):
        return [value] if value.is_floating_point() else []
    if isinstance(value, float):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
    return [f for item in items for f in floats(item)]


def finite(value: float | torch.Tensor) -> bool:
    return bool(torch.isfinite(value).all()) if isinstance(value, torch.Tensor) else math.isfinite(value)


@pytest.mark.parametrize("name", sorted(EXPONENTIAL))
def test_every_exponential_function_has_saturating_tests_in_both_dtypes_and_the_reference_passes(
    course: Course, name: str
):
    student = Recording(course.reference_module(name))
    result = grade(course, name, student)
    assert result.max_score > 0 and result.score == pytest.approx(result.max_score) and not result.course_errors
    calls = saturating_calls(course, name, student)
    dtypes: dict[str, set[torch.dtype]] = {function: set() for function in EXPONENTIAL[name]}
    for _, function, args, _ in calls:
        dtypes[function] |= {f.dtype if isinstance(f, torch.Tensor) else torch.float64 for f in floats(args)}
    assert dtypes == {f: {torch.float64} if f in SCALAR else {torch.float64, torch.float32} for f in dtypes}
    assert not [(test, function) for test, function, _, value in calls if not all(finite(f) for f in floats(value))]


def in_float64(reference: ModuleType) -> ModuleType:
    """The reference computing everything in float64: float32 arguments go in as float64, and the results come back
    as float32."""
    module = ModuleType(reference.__name__)
    module.__file__ = reference.__file__
    for name, value in vars(reference).items():
        if callable(value) and getattr(value, "__module__", None) == reference.__name__:
            setattr(module, name, lambda *args, f=value: widened(f, args))
        elif not name.startswith("__"):
            setattr(module, name, value)
    return module


def cast(value: Any, source: torch.dtype, target: torch.dtype) -> Any:
    """``value`` with every tensor of dtype ``source`` cast to ``target``, through dicts, lists and tuples."""
    if isinstance(value, torch.Tensor):
        return value.to(target) if value.dtype == source else value
    if isinstance(value, dict):
        return {k: cast(v, source, target) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(cast(v, source, target) for v in value)
    return value


def widened(function: Any, args: tuple[Any, ...]) -> Any:
    """``function(*args)`` computed in float64, its result in float32 when an argument was."""
    narrow = any(isinstance(f, torch.Tensor) and f.dtype == torch.float32 for f in floats(args))
    result = function(*cast(args, torch.float32, torch.float64))
    return cast(result, torch.float64, torch.float32) if narrow else result


@pytest.mark.parametrize("name", sorted(EXPONENTIAL))
def test_the_reference_in_float32_agrees_with_float64_at_the_float32_tolerance(course: Course, name: str):
    reference = import_module_from(course.reference_module(name))
    result = grade(course, name, LocalStudent.of_module(in_float64(reference)))
    assert not [t.name for t in result.tests if t.status != "passed"]


@pytest.mark.parametrize(("kind", "name"), sorted(UNSTABLE))
def test_a_naive_exponential_loses_the_saturating_tests_and_only_those(course: Course, kind: str, name: str):
    result = grade(course, name, LocalStudent(SUBMISSIONS / "unstable" / kind / f"{name}.py"))
    tasks = UNSTABLE[kind, name]
    failed = {t.name for t in result.tests if t.status != "passed"}
    assert failed == {t.name for t in result.tests if t.task in tasks and SATURATING.search(t.name)}
    assert {t.id for t in result.tasks if t.score < t.max_score - 1e-9} == tasks
    assert all(t.status == "failed" for t in result.tests if t.name in failed)  # the student's, not the course's


STABLE = sorted((SUBMISSIONS / "stable").glob("*.py"))


@pytest.mark.parametrize("path", STABLE, ids=lambda p: p.stem)
def test_a_stable_submission_written_differently_gets_full_marks(course: Course, path: Path):
    result = grade(course, path.stem, LocalStudent(path))
    assert not [t.name for t in result.tests if t.status != "passed"]
    assert result.max_score > 0 and result.score == pytest.approx(result.max_score) and not result.course_errors


def test_the_stable_submissions_cover_every_exponential_assignment():
    assert {p.stem for p in STABLE} == set(EXPONENTIAL)


NAMED = {
    ("overflowing_tanh", "rnn_forward"): {"tanh_overflow"},
    ("overflowing_tanh", "bptt"): {"tanh_overflow"},
    ("overflowing_tanh", "gated_cells"): {"tanh_overflow"},
    ("overflowing_tanh", "attention"): {"tanh_overflow"},
    ("naive_sigmoid", "gated_cells"): {"sigmoid_overflow", "tanh_overflow"},  # both NaN where e^z overflows
    ("naive_softmax", "attention"): {"softmax_unstable", "softmax_max_includes_padding"},
}
"""The catalogued mistakes each unstable module's failures may be named as."""


@pytest.mark.parametrize(("kind", "name"), sorted(NAMED))
def test_a_naive_exponential_is_named(course: Course, kind: str, name: str):
    assignment = course.assignment(name)
    path = course.reference_module(name)
    student = LocalStudent(SUBMISSIONS / "unstable" / kind / f"{name}.py")
    reference = import_module_from(path)
    seed = course.spec.seed or 0
    result = grade_assignment(assignment, student, reference, seed, "hidden", diagnoser=diagnoser(assignment, path))
    names = {t.feedback.diagnosis for t in result.tests if t.feedback and t.feedback.diagnosis}
    assert names and names <= NAMED[kind, name], names
