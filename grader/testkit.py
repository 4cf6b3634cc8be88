"""What an assignment's tests are written against: the ``grade``, ``rng``, ``case_seed``, ``student`` and
``reference`` fixtures.

A test is a plain pytest function marked with the task it counts for::

    @pytest.mark.task("cell")
    def test_cell_batch(grade, rng):
        x = torch.randn(4, 3, generator=rng, dtype=torch.float64)
        ...
        grade.compare("rnn_cell", x, h, W_ih, W_hh, b_ih, b_hh)

``grade.compare`` calls the reference and the student on the same inputs and checks every output;
``grade.expect`` checks against a literal (the lecture's worked numbers); ``grade.check_unchanged``
checks that no argument was modified in place; ``grade.call`` returns the student's value for a
custom check. Every failure carries feedback naming the function, the output, the inputs and the
handout's equation.

Models: ``grade.make("NameClassifier", 57, 32, 15, seed=1)`` constructs the student's class where their code runs
and returns a :class:`~grader.student.Kept` handle, which ``grade.method``, ``grade.read_parameters``,
``grade.load_parameters`` and ``grade.call`` (as an argument) take. ``grade.scenario(function, run)`` runs
``run(side)`` against the student and against the reference (a :class:`Side` each) and checks the results as
``compare`` does, naming catalogued mistakes from the mutants' runs. ``grade.quality`` scores a measured quality
(a trained model's accuracy) between two thresholds that ``grader calibrate`` writes; the ``dataset`` fixture is
the assignment's labelled data (:mod:`grader.dataset`).

pytest collects the tests (``parametrize``, classes and ``assert`` work as usual) once per process; the
grader then calls each one itself with fresh :class:`Fixtures`, so a test can request only those and its
parametrize arguments. A test module's values serve every submission the process grades: a test must not
change them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from grader import dataset
from grader.checks import Tolerance, check_result, fail
from grader.diagnosis import Diagnoser, nameable
from grader.feedback import Feedback, GradingFailure
from grader.reference_results import RESULTS
from grader.signatures import Parameters
from grader.spec import AssignmentSpec
from grader.student import Call, Kept, LocalStudent, Student


def case_seed(seed: int | str, nodeid: str) -> int:
    """The seed of one test's inputs, derived from the run's seed (the attempt's, for hidden tests) and the test's
    id."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{nodeid}".encode()).digest()[:7], "big")


def describe_inputs(names: list[str], args: tuple[Any, ...]) -> str:
    """``x (5, 3, 4) float64, h0 (3, 6) float64, lr 0.1``."""
    parts = []
    for i, arg in enumerate(args):
        name = names[i] if i < len(names) else f"arg{i}"
        if isinstance(arg, torch.Tensor):
            parts.append(f"{name} {tuple(arg.shape)} {str(arg.dtype).removeprefix('torch.')}")
        elif isinstance(arg, dict):
            parts.append(f"{name} dict of {len(arg)}")
        elif isinstance(arg, list) and len(arg) > 6:
            parts.append(f"{name} list of {len(arg)}")
        else:
            parts.append(f"{name} {arg!r}")
    return ", ".join(parts)


def first_float_dtype(value: Any) -> torch.dtype | None:
    """The dtype of the first floating-point tensor in ``value`` (searched through dicts and sequences)."""
    if isinstance(value, torch.Tensor):
        return value.dtype if value.is_floating_point() else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
    for item in items:
        found = first_float_dtype(item)
        if found is not None:
            return found
    return None


NO_REFERENCE = "this test needs the reference solutions, which are not present"


class CourseError(Exception):
    """A test could not run for a reason of the course's (the reference raised, or is absent): never the student's."""


class AuthoringError(CourseError):
    """A test asks for what the grader or the assignment does not have (a fixture, a task, a function): its message
    says what, in words that follow the test's id, on one line."""

class Side:
    """One side of a :meth:`Grade.scenario`: the student's code, the reference's or a mutant's, reached alike."""

    def __init__(self, student: Student) -> None:
        self.student = student

    def make(self, function: str, *args: Any, seed: int | None = None) -> Kept:
        """Call ``function`` (a class, or a function making an object) and keep what it returns."""
        value = self.student.call(function, *args, keep=True, seed=seed).value
        assert isinstance(value, Kept)
        return value

    def call(self, function: str, *args: Any, seed: int | None = None) -> Any:
        return self.student.call(function, *args, seed=seed).value

    def method(self, target: Kept, name: str, *args: Any, seed: int | None = None) -> Any:
        return self.student.method(target, name, *args, seed=seed).value

    def read_parameters(self, model: Kept) -> dict[str, torch.Tensor]:
        return self.student.parameters(model)

    def load_parameters(self, model: Kept, values: dict[str, torch.Tensor]) -> None:
        self.student.load_parameters(model, values)

    def constant(self, name: str) -> Any:
        return self.student.constant(name)


Scenario = Callable[[Side], Any]
"""What a scenario does with one side; it returns the results to compare."""


UNCHECKED = object()
"""Stands for "no expected value": the call is made, its result not compared."""


@dataclass
class Grade:
    """A test's handle on the submission, the reference and the assignment's tolerances; ``parameters``: the
    contract's parameter names (:mod:`grader.signatures`), which name a failed test's inputs."""

    spec: AssignmentSpec
    student: Student
    reference: ModuleType | None
    seed: int
    diagnoser: Diagnoser | None = None
    parameters: Parameters = field(kw_only=True)
    measured: dict[str, list[float]] | None = field(default=None, kw_only=True)
    """Where a calibration (``grader calibrate``) collects what :meth:`quality` measures, instead of scoring it."""

    def tolerance(self, args: tuple[Any, ...]) -> Tolerance:
        dtype = first_float_dtype(args)
        return self.spec.tolerance["float32" if dtype == torch.float32 else "float64"]

    def _parameter_names(self, function: str) -> list[str]:
        return list(self.parameters.get(function, ()))

    def _annotate(self, failure: GradingFailure, function: str, args: tuple[Any, ...]) -> GradingFailure:
        fn_spec = self.spec.functions.get(function)
        failure.feedback = failure.feedback.model_copy(
            update={
                "function": function,
                "inputs": describe_inputs(self._parameter_names(function), args),
                "case_seed": self.seed,
                "equation": failure.feedback.equation or (fn_spec.equation if fn_spec else None),
                "message": f"{function}: {failure.feedback.message}"
                if not failure.feedback.message.startswith(function)
                else failure.feedback.message,
            }
        )
        return failure

    def _known(self, function: str) -> None:
        """AuthoringError unless ``function`` is one of the assignment's functions (a test's typo is not the
        student's missing function)."""
        if function not in self.spec.functions:
            raise AuthoringError(
                f"asks grade for {function!r}, which is not a function of {self.spec.name} (its assignment.toml "
                f"has {', '.join(self.spec.functions)})"
            )

    def _call_student(self, function: str, args: tuple[Any, ...], watch: bool = False) -> Call:
        """The student's ``function(*args)``."""
        self._known(function)
        return self.student.call(function, *args, watch=watch)

    def call(self, function: str, *args: Any) -> Any:
        """The student's result for ``function(*args)``."""
        try:
            return self._call_student(function, args).value
        except GradingFailure as failure:
            raise self._annotate(failure, function, args) from None

    def expected(self, function: str, *args: Any) -> Any:
        """The reference's result for ``function(*args)``, on copies of the arguments (computed once per process
        for equal arguments: see :mod:`grader.reference_results`)."""
        self._known(function)
        if self.reference is None:
            raise CourseError(NO_REFERENCE)
        try:
            return RESULTS.call(self.reference, function, args)
        except Exception as error:
            raise CourseError(f"the reference's {function} raised {type(error).__name__}: {error}") from error

    def _checked(
        self,
        function: str,
        args: tuple[Any, ...],
        expected: Callable[[], Any] | None,
        tolerance: Tolerance | None,
        watch: bool = False,
    ) -> Call:
        """Call the student and check the result against ``expected()`` (None: not checked); a failure is annotated
        and, where the catalogue knows the mistake, named. ``expected`` is asked for only once the student's code has
        returned, or failed in a way the catalogue can name: a starter's ``NotImplementedError`` or a timeout costs
        no run of the reference. ``watch``: see which arguments the call changed."""
        self._known(function)
        tolerance = tolerance or self.tolerance(args)
        outputs = self.spec.functions[function].outputs
        wanted = functools.cache(expected) if expected is not None else None
        got = None
        try:
            call = self._call_student(function, args, watch)
            got = call.value
            if wanted is not None:
                check_result(outputs, got, wanted(), tolerance)
        except GradingFailure as failure:
            if self.diagnoser is not None and wanted is not None and nameable(failure.feedback):
                failure.feedback = self._diagnosed(failure.feedback, function, args, outputs, tolerance, wanted(), got)
            raise self._annotate(failure, function, args) from None
        return call

    def _diagnosed(self, feedback: Feedback, function: str, *case: Any) -> Feedback:
        """``feedback`` with the catalogued mistake it matches; as it was when naming one fails on the student's value
        (the mutants run on the test's inputs, but are compared with what the student returned)."""
        assert self.diagnoser is not None
        try:
            return self.diagnoser.diagnose(feedback, function, *case)
        except Exception:
            return feedback

    def expect(self, function: str, *args: Any, expected: Any, tolerance: Tolerance | None = None) -> Any:
        """Check the student's ``function(*args)`` against ``expected``; return the student's result."""
        return self._checked(function, args, lambda: expected, tolerance).value

    def compare(self, function: str, *args: Any, tolerance: Tolerance | None = None) -> Any:
        """Check the student's ``function(*args)`` against the reference's; return the student's result."""
        return self._checked(function, args, lambda: self.expected(function, *args), tolerance).value

    def check_unchanged(self, function: str, *args: Any, tolerance: Tolerance | None = None) -> Any:
        """Check that ``function(*args)`` is right (against the reference, when present) and leaves every
        argument as it was; return the student's result."""
        expected = (lambda: self.expected(function, *args)) if self.reference is not None else None
        call = self._checked(function, args, expected, tolerance, watch=True)
        if call.mutated:
            names = self._parameter_names(function)
            which = ", ".join(names[i] if i < len(names) else f"argument {i}" for i in call.mutated)
            message = (
                f"{function} modified {which} in place; the contract says a function never modifies its "
                "arguments (work on new tensors: x = x + y, not x += y)"
            )
            raise self._annotate(fail("mutation", which, message), function, args)
        return call.value

    def constant(self, name: str) -> Any:
        """The student's module-level value ``name``."""
        self._known(name)
        try:
            return self.student.constant(name)
        except GradingFailure as failure:
            raise self._annotate(failure, name, ()) from None

    def make(self, function: str, *args: Any, seed: int | None = None) -> Kept:
        """The student's ``function(*args)`` (their class, say), kept where their code runs: a handle to pass on."""
        self._known(function)
        try:
            return Side(self.student).make(function, *args, seed=seed)
        except GradingFailure as failure:
            raise self._annotate(failure, function, args) from None

    def method(self, target: Kept, name: str, *args: Any, seed: int | None = None) -> Any:
        """What the kept object's method ``name`` returns for ``args``."""
        try:
            return self.student.method(target, name, *args, seed=seed).value
        except GradingFailure as failure:
            raise self._annotate(failure, target.made_by, args) from None

    def read_parameters(self, model: Kept) -> dict[str, torch.Tensor]:
        """The kept model's parameters by name."""
        try:
            return self.student.parameters(model)
        except GradingFailure as failure:
            raise self._annotate(failure, model.made_by, ()) from None

    def load_parameters(self, model: Kept, values: dict[str, torch.Tensor]) -> None:
        """Copy ``values`` into the kept model's parameters (exactly these names and shapes)."""
        try:
            self.student.load_parameters(model, values)
        except GradingFailure as failure:
            raise self._annotate(failure, model.made_by, ()) from None

    def scenario(
        self,
        function: str,
        run: Scenario,
        *args: Any,
        expected: Any = UNCHECKED,
        tolerance: Tolerance | None = None,
        label: str = "",
    ) -> Any:
        """Check what ``run(side)`` gives for the student against what it gives for the reference (or against
        ``expected``, worked out by the test), as :meth:`compare` checks a call: ``function``'s outputs and equation
        name the results, ``args`` are the inputs feedback describes; return the student's results. The reference's
        results are worked out once per process for the test (``label`` tells apart two scenarios of one test)."""
        self._known(function)
        if expected is UNCHECKED:
            if self.reference is None:
                raise CourseError(NO_REFERENCE)
            reference = self.reference
            key = (reference, "scenario", function, label, self.seed)
            try:
                expected = RESULTS.remember(key, lambda: run(Side(LocalStudent.of_module(reference))))
            except Exception as error:
                raise CourseError(f"the reference's {function} raised {type(error).__name__}: {error}") from error
        tolerance = tolerance or self.tolerance(args)
        outputs = self.spec.functions[function].outputs
        got = None
        try:
            got = run(Side(self.student))
            check_result(outputs, got, expected, tolerance)
        except GradingFailure as failure:
            if self.diagnoser is not None:
                with contextlib.suppress(Exception):  # naming the mistake fails: the feedback stays as it is
                    failure.feedback = self.diagnoser.diagnose_scenario(
                        failure.feedback,
                        function,
                        lambda mutant: run(Side(LocalStudent.of_module(mutant))),
                        (label, self.seed),
                        outputs,
                        tolerance,
                        expected,
                        got,
                    )
            raise self._annotate(failure, function, args) from None
        return got

    def quality(
        self, function: str, name: str, measured: float, baseline: float, what: str, why: str = ""
    ) -> None:
        """Score ``measured`` (higher is better: a trained model's accuracy) between the thresholds of
        ``[quality.<name>]``, written by ``grader calibrate``: all the test's points from ``full_at``, none at
        ``zero_at`` or below, a share between; below ``full_at`` the test fails with what it earned and why.
        ``baseline``: what a model that learned nothing would measure, which calibration takes as ``zero_at``;
        ``what`` names the quantity for the student, ``why`` says what the test saw that explains a low one (the
        loss curve)."""
        self._known(function)
        if self.measured is not None:
            self.measured.setdefault(name, []).append(measured)
            self.measured.setdefault(f"{name}.baseline", []).append(baseline)
            return
        thresholds = self.spec.quality.get(name)
        if thresholds is None:
            raise AuthoringError(
                f"scores the quality {name!r}, which {self.spec.name}'s assignment.toml has no [quality.{name}] "
                f"for: run `grader calibrate {self.spec.name}`"
            )
        if measured >= thresholds.full_at:
            return
        span = thresholds.full_at - thresholds.zero_at
        share = min(0.999, max(0.0, (measured - thresholds.zero_at) / span)) if measured == measured else 0.0
        message = (
            f"{what} is {measured:.3g}: full marks from {thresholds.full_at:.3g}, none at {thresholds.zero_at:.3g} "
            f"or below, so this test earns {share:.0%} of its points" + (f". {why}" if why else "")
        )
        raise GradingFailure(Feedback(kind="value", function=function, message=message, credit=share))


FIXTURES = ("case_seed", "rng", "grade", "student", "reference", "dataset")
"""The fixtures a test can request: see :class:`Fixtures`."""


class Fixtures:
    """The fixtures of one graded module's tests, made fresh for every test:

    - ``case_seed``: the seed of the test's inputs, from the run's seed (a hidden test's: the attempt's) and the
      test's id;
    - ``rng``: a ``torch.Generator`` seeded with it, to draw the inputs from;
    - ``grade``: a new :class:`Grade`, the test's handle on the submission and the reference;
    - ``student``: the :class:`Student` itself;
    - ``reference``: the reference module (a test requesting it fails when the reference is absent);
    - ``dataset``: the assignment's ``[dataset]``, split by the course's secret (:class:`grader.dataset.Dataset`).
    """

    def __init__(
        self,
        spec: AssignmentSpec,
        student: Student,
        reference: ModuleType | None,
        seed: int | str,
        diagnoser: Diagnoser | None = None,
        *,
        parameters: Parameters,
        folder: Path | None = None,
        split_secret: str | None = None,
        measured: dict[str, list[float]] | None = None,
    ) -> None:
        self.spec = spec
        self.student = student
        self.reference = reference
        self.seed = seed
        self.diagnoser = diagnoser
        self.parameters = parameters
        self.folder = folder
        self.split_secret = split_secret
        """What splits the dataset: the course's secret (the same for every attempt), not the run's seed."""
        self.measured = measured

    def values(self, nodeid: str, names: Iterable[str]) -> dict[str, Any]:
        """The fixtures ``names`` (of :data:`FIXTURES`) of the test ``nodeid``."""
        seed = case_seed(self.seed, nodeid)
        values: dict[str, Any] = {}
        for name in names:
            if name == "case_seed":
                values[name] = seed
            elif name == "rng":
                values[name] = torch.Generator().manual_seed(seed)
            elif name == "grade":
                values[name] = Grade(
                    self.spec,
                    self.student,
                    self.reference,
                    seed,
                    self.diagnoser,
                    parameters=self.parameters,
                    measured=self.measured,
                )
            elif name == "student":
                values[name] = self.student
            elif name == "reference":
                if self.reference is None:
                    raise CourseError(NO_REFERENCE)
                values[name] = self.reference
            elif name == "dataset":
                if self.spec.dataset is None or self.folder is None:
                    raise AuthoringError(f"requests the dataset, which {self.spec.name} has none of ([dataset])")
                values[name] = dataset.load(self.folder, self.spec.dataset, self.split_secret or str(self.seed))
            else:
                provided = ", ".join(FIXTURES)
                raise AuthoringError(f"requests the fixture {name}, which the grader does not provide ({provided})")
        return values
