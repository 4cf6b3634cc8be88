"""Naming the mistake: on a failed test, run the catalogue's mutants on the same inputs and find the ones the
student's result matches. They run here, in the trusted process: mutants are our code. Only the mutants whose code
can change the failed function run (:func:`grader.mistakes.changed_functions`). A test gives every submission of an
attempt the same inputs, so each mutant's result, and whether it differs from the expected one, is worked out once
per process (:mod:`grader.reference_results`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

import torch

from grader.checks import Tolerance, check_outputs, elementwise_close
from grader.feedback import Feedback, GradingFailure
from grader.mistakes import Catalogue, Mistake, build_mutant, changed_functions, load_catalogue
from grader.reference_results import RESULTS, digest
from grader.spec import Assignment

DIAGNOSED_KINDS = ("value", "shape", "nonfinite", "type", "exception")


def nameable(feedback: Feedback) -> bool:
    """Whether a catalogued mistake can explain this failure: a wrong value, shape or type, or a named exception."""
    if feedback.kind == "exception":
        return feedback.exception is not None
    return feedback.kind in DIAGNOSED_KINDS


def certainly_differ(got: Any, expected: Any, tolerance: Tolerance) -> bool:
    """True where :func:`grader.checks.check_outputs` would fail ``got`` against ``expected`` for a reason found cheaply
    (tensors, or same-length lists or tuples of them, that differ in shape, dtype or value); False when unsure."""
    if type(got) is torch.Tensor and type(expected) is torch.Tensor:
        if got.shape != expected.shape or got.dtype != expected.dtype:
            return True
        return not bool(elementwise_close(got.detach(), expected, tolerance).all())
    if type(got) in (list, tuple) and type(got) is type(expected) and len(got) == len(expected):
        return any(certainly_differ(a, b, tolerance) for a, b in zip(got, expected, strict=True))
    return False


def distance(a: Any, b: Any) -> float:
    """The largest absolute difference between two results of the same structure (NaN equal to NaN)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape:
            return math.inf
        if not a.numel():
            return 0.0
        diff = (a.detach().double() - b.detach().double()).abs()
        diff = torch.where(
            a.isnan() & b.isnan() if a.is_floating_point() else torch.zeros_like(diff, dtype=torch.bool),
            torch.zeros_like(diff),
            diff,
        )
        return float(diff.nan_to_num(nan=math.inf).max())
    if isinstance(a, dict) and isinstance(b, dict):
        return max((distance(a[k], b[k]) for k in a), default=0.0) if a.keys() == b.keys() else math.inf
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return max((distance(x, y) for x, y in zip(a, b, strict=True)), default=0.0) if len(a) == len(b) else math.inf
    if isinstance(a, int | float) and isinstance(b, int | float):
        return 0.0 if a == b or (a != a and b != b) else abs(a - b)
    return 0.0 if a == b else math.inf


class Diagnoser:
    """An assignment's mutants, built once, matched against a student's results."""

    def __init__(self, reference: Path, catalogue: Catalogue) -> None:
        self.reference = reference
        self.catalogue = catalogue
        self.mutants: dict[str, ModuleType] = {}
        self.changed: dict[str, frozenset[str]] = {}
        """The functions each mutant computes differently from the reference (:func:`changed_functions`)."""
        self.differs: dict[tuple[str, tuple[str, bytes, bytes]], bool] = {}
        """Whether a mutant's result differs from the expected one, by mistake and case."""

    def mutant(self, mistake: Mistake) -> ModuleType:
        if mistake.id not in self.mutants:
            self.mutants[mistake.id] = build_mutant(self.reference, mistake)
        return self.mutants[mistake.id]

    @functools.cached_property
    def pristine(self) -> ModuleType:
        """The reference built as a mutant is, making no mistake: what the mutants are compared with."""
        return build_mutant(self.reference, Mistake(id="reference", mistake="", right=""))

    def changes(self, mistake: Mistake, function: str) -> bool:
        """Whether ``mistake``'s mutant may compute ``function`` differently from the reference (one that does not
        gives the expected result, which the student's wrong one cannot match: it need not run). Anything but a plain
        function (a class) is taken to be changed."""
        mutant = self.mutant(mistake)
        if mistake.id not in self.changed:
            self.changed[mistake.id] = changed_functions(mutant, self.pristine)
        return function in self.changed[mistake.id] or not isinstance(getattr(mutant, function, None), FunctionType)

    def matches(
        self,
        function: str,
        args: tuple[Any, ...],
        outputs: Sequence[str | Sequence[str]],
        tolerance: Tolerance,
        expected: Any,
        got: Any = None,
        raised: str | None = None,
    ) -> list[Mistake]:
        """The mistakes whose mutant gives what the student gave (or raises what the student raised) where the
        reference does not, closest first."""
        fingerprint, expected_print = digest(args), digest(expected)
        case = None
        if fingerprint is not None and expected_print is not None:
            case = (function, fingerprint, expected_print)

        def result(mutant: ModuleType) -> Any:
            return RESULTS.call_with(mutant, function, args, fingerprint)

        mistakes = [m for m in self.catalogue.mistakes.values() if self.changes(m, function)]
        return self._matching(mistakes, function, result, case, outputs, tolerance, expected, got, raised)

    def _matching(
        self,
        mistakes: Iterable[Mistake],
        function: str,
        result: Callable[[ModuleType], Any],
        case: tuple[Any, ...] | None,
        outputs: Sequence[str | Sequence[str]],
        tolerance: Tolerance,
        expected: Any,
        got: Any,
        raised: str | None,
    ) -> list[Mistake]:
        """:meth:`matches` among ``mistakes``, each mutant's result being ``result(mutant)``; ``case``: what a mutant's
        differing from ``expected`` is remembered by (None: not remembered)."""

        def same(a: Any, b: Any) -> bool:
            if certainly_differ(a, b, tolerance):  # most mutants: decided without building a failure's feedback
                return False
            try:
                check_outputs(outputs, a, b, tolerance)
            except GradingFailure:
                return False
            return True

        found: list[tuple[float, int, Mistake]] = []
        order = {mistake.id: i for i, mistake in enumerate(self.catalogue.mistakes.values())}
        for mistake in mistakes:
            mutant = self.mutant(mistake)
            if not hasattr(mutant, function):
                continue
            try:
                out = result(mutant)
            except Exception as error:
                # a scenario's mutant raises inside a LocalStudent, which says what it raised
                name = error.feedback.exception if isinstance(error, GradingFailure) else type(error).__name__
                if raised is not None and name == raised:
                    found.append((0.0, order[mistake.id], mistake))
                continue
            if raised is not None:
                continue
            key = (mistake.id, case) if case is not None else None
            differs = self.differs.get(key) if key is not None else None
            if differs is None:
                differs = not same(out, expected)
                if key is not None:
                    self.differs[key] = differs
            if differs and same(got, out):
                gap = distance(got, out)
                gap = 0.0 if gap <= tolerance.atol else gap
                found.append((gap, order[mistake.id], mistake))  # ties: catalogue order
        return [mistake for *_, mistake in sorted(found, key=lambda item: item[:2])]

    def diagnose_scenario(
        self,
        feedback: Feedback,
        function: str,
        run: Callable[[ModuleType], Any],
        case: tuple[Any, ...],
        outputs: Sequence[str | Sequence[str]],
        tolerance: Tolerance,
        expected: Any,
        got: Any,
    ) -> Feedback:
        """:meth:`diagnose` for a scenario (:meth:`grader.testkit.Grade.scenario`): each mutant's results are
        ``run(mutant)``, worked out once per process for the test's ``case``."""

        def result(mutant: ModuleType) -> Any:
            return RESULTS.remember((mutant, "scenario", function, *case), lambda: run(mutant))

        return self._named(
            feedback,
            function,
            lambda raised: self._matching(
                self.catalogue.mistakes.values(),
                function,
                result,
                ("scenario", *case),
                outputs,
                tolerance,
                expected,
                got,
                raised,
            ),
        )

    def diagnose(
        self,
        feedback: Feedback,
        function: str,
        args: tuple[Any, ...],
        outputs: Sequence[str | Sequence[str]],
        tolerance: Tolerance,
        expected: Any,
        got: Any,
    ) -> Feedback:
        """``feedback`` with the mistakes the student's result matches, or unchanged when none does."""
        return self._named(
            feedback, function, lambda raised: self.matches(function, args, outputs, tolerance, expected, got, raised)
        )

    def _named(self, feedback: Feedback, function: str, matching: Callable[[str | None], list[Mistake]]) -> Feedback:
        """``feedback`` with the mistakes ``matching(raised)`` finds, or unchanged when none does."""
        if not nameable(feedback):
            return feedback
        raised = feedback.exception if feedback.kind == "exception" else None
        found = matching(raised)
        if not found:
            return feedback
        explanation = found[0].explain(function)
        if len(found) > 1:
            explanation += " It also matches " + "; ".join(f"what we get if {m.mistake}" for m in found[1:]) + "."
        return feedback.model_copy(
            update={"diagnosis": found[0].id, "explanation": explanation, "matches": [m.id for m in found]}
        )


@functools.cache
def diagnoser_for(assignment_folder: Path, reference: Path) -> Diagnoser | None:
    """The diagnoser of an assignment, or None where it has no catalogue or the reference is absent."""
    catalogue = load_catalogue(assignment_folder / "mistakes.py")
    if catalogue is None or not reference.is_file():
        return None
    return Diagnoser(reference, catalogue)


def diagnoser(assignment: Assignment, reference: Path) -> Diagnoser | None:
    return diagnoser_for(assignment.folder, reference)
