"""Runs one assignment's tests (public or hidden) against a :class:`Student` and scores them by task.

The tests are collected once per process (:mod:`grader.suite`); every run calls them one by one with fresh
fixtures, as pytest would, and turns each one's exception into feedback.
"""

from __future__ import annotations

import io
import time
import traceback
import warnings
from collections import defaultdict
from contextlib import redirect_stderr, redirect_stdout
from types import ModuleType
from typing import Any, Literal

import torch

from grader.diagnosis import Diagnoser
from grader.feedback import Feedback, GradingFailure
from grader.results import AssignmentResult, Status, TaskResult, TestResult
from grader.signatures import contract_parameters
from grader.spec import Assignment
from grader.student import Call, Kept, Student
from grader.suite import Case, collect
from grader.testkit import AuthoringError, CourseError, Fixtures

ASSERT_LINES = 40
ASSERT_CHARS = 4000
"""How much of a failed ``assert``'s explanation the feedback keeps (pytest's own cut depends on ``$CI``)."""


class Outcome:
    """A test's raw verdict; ``course_error``: the traceback of a failure of the course's, for the instructor only."""

    def __init__(self, nodeid: str, task: str) -> None:
        self.nodeid = nodeid
        self.task = task
        self.passed = False
        self.feedback: Feedback | None = None
        self.course_error: str | None = None
        self.duration = 0.0


class Watched:
    """The :class:`Student` of one assignment's tests, counting what its code returned in the current test: an
    exception a test raises after the student's code returned something is that value failing a check."""

    def __init__(self, student: Student) -> None:
        self.student = student
        self.module = student.module
        self.returned = 0

    def start_test(self, seconds: float) -> None:
        self.returned = 0
        self.student.start_test(seconds)

    def call(
        self, function: str, *args: Any, watch: bool = False, keep: bool = False, seed: int | None = None
    ) -> Call:
        call = self.student.call(function, *args, watch=watch, keep=keep, seed=seed)
        self.returned += 1
        return call

    def method(self, target: Kept, name: str, *args: Any, seed: int | None = None) -> Call:
        call = self.student.method(target, name, *args, seed=seed)
        self.returned += 1
        return call

    def parameters(self, model: Kept) -> dict[str, torch.Tensor]:
        values = self.student.parameters(model)
        self.returned += 1
        return values

    def load_parameters(self, model: Kept, values: dict[str, torch.Tensor]) -> None:
        self.student.load_parameters(model, values)

    def constant(self, name: str) -> Any:
        value = self.student.constant(name)
        self.returned += 1
        return value


def bounded(explanation: str) -> str:
    """``explanation`` cut to :data:`ASSERT_LINES` lines and :data:`ASSERT_CHARS` characters, saying so."""
    if explanation.count("\n") < ASSERT_LINES and len(explanation) <= ASSERT_CHARS:
        return explanation
    kept = "\n".join(explanation.splitlines()[:ASSERT_LINES])[:ASSERT_CHARS]
    return f"{kept}\n  ... ({len(explanation) - len(kept)} more characters of the comparison left out)"


NOT_COUNTED = (
    "this test could not run because of a problem in the course or the grader, not in your code; it is not counted "
    "against you (neither earned nor lost), and your instructor has been told"
)


def feedback_for(error: BaseException, phase: str, returned: bool) -> tuple[Feedback, str | None]:
    """A test's exception as feedback, and the full traceback when the failure is the course's.

    A :class:`GradingFailure` carries its own feedback (also when the grader broke while handling it); a failed
    ``assert`` says the value is wrong; any other exception raised after the student's code returned a value (a check
    the value broke) fails that value; anything
    else (the set-up, the reference, a bug of the test's) is the course's: the student reads only
    :data:`NOT_COUNTED`, never a path, a frame or a line of the grader, the course or a hidden test.
    """
    if isinstance(error, GradingFailure):
        return error.feedback, sandbox_failure(error.feedback)
    in_flight = student_failure(error)
    if in_flight is not None:  # the grader broke while it described the student's failure: still the student's
        return in_flight.feedback, sandbox_failure(in_flight.feedback)
    if isinstance(error, AssertionError):
        return Feedback(kind="value", message=bounded(str(error)) or "an assertion failed"), None
    if isinstance(error, AuthoringError):  # the test is written wrong: one line says how
        return Feedback(kind="error", message=NOT_COUNTED), str(error)
    if returned and phase == "call" and not isinstance(error, CourseError):
        message = (
            f"the grader could not check what your code returned: checking it raised {type(error).__name__}; "
            "return the types, shapes and values the handout gives"
        )
        return Feedback(kind="type", message=message), None
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Feedback(kind="error", message=NOT_COUNTED), f"in its {phase} phase:\n{trace}"


def sandbox_failure(feedback: Feedback) -> str | None:
    """What the instructor reads when the sandbox, not the student's code, failed a test (not counted)."""
    return f"the sandbox failed: {feedback.message}" if feedback.kind == "sandbox" else None


def student_failure(error: BaseException) -> GradingFailure | None:
    """The :class:`GradingFailure` that ``error`` was raised while handling, if any."""
    context = error.__context__
    while context is not None and not isinstance(context, GradingFailure):
        context = context.__context__
    return context


def run_test(case: Case, fixtures: Fixtures, student: Watched, time_limit: float) -> Outcome:
    """Run one test: the student's clock starts and the fixtures are made (its setup phase), then the test is
    called; the outcome is timed."""
    __tracebackhide__ = True
    outcome = Outcome(case.nodeid, case.task or "")
    start = time.perf_counter()
    phase = "setup"
    try:
        student.start_test(time_limit)
        values = fixtures.values(case.nodeid, case.fixtures)
        phase = "call"
        case.run(values)
        outcome.passed = True
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        outcome.feedback, outcome.course_error = feedback_for(error, phase, student.returned > 0)
    outcome.duration = time.perf_counter() - start
    return outcome


def over_budget(case: Case, assignment: str, budget: float) -> Outcome:
    """A test not run: the submission's earlier tests used up the assignment's time budget. It costs its points."""
    outcome = Outcome(case.nodeid, case.task or "")
    outcome.feedback = Feedback(
        kind="timeout",
        message=f"not run: your code used up the time budget of {assignment} ({budget:.3g} s for all its tests) "
        "in earlier tests; make the slow functions finish sooner, then submit again",
    )
    return outcome


def status(outcome: Outcome) -> Status:
    """Passed; failed (the submission's fault); or error (the test or the sandbox failed: not the student's)."""
    if outcome.passed:
        return "passed"
    return "error" if outcome.feedback and outcome.feedback.kind in ("error", "sandbox") else "failed"


def counted(outcome: Outcome) -> bool:
    """Whether the test counts toward the score: all but those the course or the sandbox failed."""
    return outcome.course_error is None


def credit(outcome: Outcome) -> float:
    """The share of its points a test earns: all when it passed, the part its feedback grants when it scored
    between two thresholds, else none."""
    if outcome.passed:
        return 1.0
    return outcome.feedback.credit or 0.0 if outcome.feedback is not None else 0.0


def score(assignment: Assignment, outcomes: list[Outcome]) -> AssignmentResult:
    """Share each task's points equally among its counted tests and add up what passed; a test the course or the
    sandbox failed is worth nothing either way, and a task none of whose tests counted is left out of the maximum."""
    by_task: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_task[outcome.task].append(outcome)
    tasks = []
    for task in assignment.spec.tasks:
        runs = by_task.get(task.id, [])
        counting = [o for o in runs if counted(o)]
        share = task.points / len(counting) if counting else 0.0
        tests = [
            TestResult(
                name=o.nodeid,
                assignment=assignment.name,
                task=task.id,
                status=status(o),
                score=share * credit(o),
                max_score=share if counted(o) else 0.0,
                feedback=None if o.passed else o.feedback,
                duration=o.duration,
            )
            for o in runs
        ]
        tasks.append(
            TaskResult(
                id=task.id,
                title=task.title,
                score=share * sum(credit(o) for o in counting),
                max_score=task.points if counting or not runs else 0.0,
                tests=tests,
            )
        )
    return AssignmentResult(
        name=assignment.name,
        title=assignment.spec.title,
        tasks=tasks,
        score=sum(t.score for t in tasks),
        max_score=sum(t.max_score for t in tasks),
        course_errors=[f"{assignment.name}: {o.nodeid} {o.course_error}" for o in outcomes if o.course_error],
    )


def grade_assignment(
    assignment: Assignment,
    student: Student,
    reference: ModuleType | None,
    seed: int | str,
    which: Literal["public", "hidden"] = "hidden",
    time_limit: float | None = None,
    diagnoser: Diagnoser | None = None,
    *,
    split_secret: str | None = None,
    measured: dict[str, list[float]] | None = None,
) -> AssignmentResult:
    """Grade ``student`` with one assignment's tests; ``time_limit`` overrides the spec's seconds per test, and
    ``diagnoser`` names the catalogued mistakes that failed tests show. ``split_secret`` splits the assignment's
    dataset (the course's secret; ``seed`` where it is that); ``measured``: a calibration's, see
    :meth:`grader.testkit.Grade.quality`."""
    tests_dir = assignment.tests_dir(which)
    cases = collect(tests_dir, frozenset(t.id for t in assignment.spec.tasks), assignment.test_files(which))
    watched = Watched(student)
    parameters = contract_parameters(assignment, reference)
    fixtures = Fixtures(
        assignment.spec,
        watched,
        reference,
        seed,
        diagnoser,
        parameters=parameters,
        folder=assignment.folder,
        split_secret=split_secret,
        measured=measured,
    )
    limit = time_limit or assignment.spec.time_limit
    budget = assignment.spec.budget(time_limit)
    outcomes: list[Outcome] = []
    # what the tests print or warn goes nowhere, as under pytest's capture
    with warnings.catch_warnings(record=True), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        for case in cases:
            spent = sum(o.duration for o in outcomes)
            outcomes.append(
                run_test(case, fixtures, watched, min(limit, budget - spent))
                if spent < budget
                else over_budget(case, assignment.name, budget)
            )
    if which == "hidden":  # no case seed, and the expected values as the course shows them (Feedback.for_hidden_test)
        for outcome in outcomes:
            outcome.feedback = outcome.feedback and outcome.feedback.for_hidden_test(assignment.hidden_values)
    return score(assignment, outcomes)
