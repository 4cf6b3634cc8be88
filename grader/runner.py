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
from pathlib import Path
from types import ModuleType
from typing import Literal

from grader.diagnosis import Diagnoser
from grader.feedback import Feedback, GradingFailure
from grader.results import AssignmentResult, Status, TaskResult, TestResult
from grader.spec import Assignment, AssignmentSpec
from grader.student import Student
from grader.suite import Case, collect
from grader.testkit import Fixtures

ASSERT_LINES = 40
ASSERT_CHARS = 4000
"""How much of a failed ``assert``'s explanation the feedback keeps (pytest's own cut depends on ``$CI``)."""


class Outcome:
    """A test's raw verdict."""

    def __init__(self, nodeid: str, task: str) -> None:
        self.nodeid = nodeid
        self.task = task
        self.passed = False
        self.feedback: Feedback | None = None
        self.duration = 0.0


def visible_frames(error: BaseException) -> traceback.StackSummary:
    """The frames of ``error``'s traceback, less those that hide themselves with ``__tracebackhide__`` (the
    runner's own, pytest's helpers), as pytest shows them."""
    frames = [
        (frame, line)
        for frame, line in traceback.walk_tb(error.__traceback__)
        if not frame.f_locals.get("__tracebackhide__", frame.f_globals.get("__tracebackhide__"))
    ]
    return traceback.StackSummary.extract(frames)


def bounded(explanation: str) -> str:
    """``explanation`` cut to :data:`ASSERT_LINES` lines and :data:`ASSERT_CHARS` characters, saying so."""
    if explanation.count("\n") < ASSERT_LINES and len(explanation) <= ASSERT_CHARS:
        return explanation
    kept = "\n".join(explanation.splitlines()[:ASSERT_LINES])[:ASSERT_CHARS]
    return f"{kept}\n  ... ({len(explanation) - len(kept)} more characters of the comparison left out)"


def feedback_for(error: BaseException, phase: str) -> Feedback:
    """A test's exception as feedback: a :class:`GradingFailure` carries its own; a failed ``assert`` says the
    value is wrong; anything else (``pytest.fail`` and ``pytest.skip`` too) is the test failing, not the student."""
    if isinstance(error, GradingFailure):
        return error.feedback
    if isinstance(error, AssertionError):
        return Feedback(kind="value", message=bounded(str(error)) or "an assertion failed")
    frames = visible_frames(error)
    where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
    what = "".join(traceback.format_exception_only(type(error), error)).strip()
    return Feedback(
        kind="error",
        message=f"the test failed in its {phase} phase: {where}{what.splitlines()[0] if what else ''}",
        traceback=("".join(frames.format()) + what)[-4000:],
    )


def run_test(case: Case, fixtures: Fixtures, student: Student, time_limit: float) -> Outcome:
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
        outcome.feedback = feedback_for(error, phase)
    outcome.duration = time.perf_counter() - start
    return outcome


def check_tasks(tests_dir: Path, cases: tuple[Case, ...], spec: AssignmentSpec) -> None:
    """Every test counts for a task of the spec; RuntimeError naming the folder and the test otherwise."""
    known = {t.id for t in spec.tasks}
    for case in cases:
        if case.task not in known:
            raise RuntimeError(
                f"{tests_dir}: {case.nodeid}: every test needs @pytest.mark.task(ID) with ID one of "
                f"{sorted(known)} (from {spec.name}/assignment.toml)"
            )


def status(outcome: Outcome) -> Status:
    """Passed; failed (the submission's fault); or error (the test or the sandbox failed: not the student's)."""
    if outcome.passed:
        return "passed"
    return "error" if outcome.feedback and outcome.feedback.kind in ("error", "sandbox") else "failed"


def score(assignment: Assignment, outcomes: list[Outcome]) -> AssignmentResult:
    """Share each task's points equally among its tests and add up what passed."""
    by_task: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_task[outcome.task].append(outcome)
    tasks = []
    for task in assignment.spec.tasks:
        runs = by_task.get(task.id, [])
        share = task.points / len(runs) if runs else 0.0
        tests = [
            TestResult(
                name=o.nodeid,
                assignment=assignment.name,
                task=task.id,
                status=status(o),
                score=share if o.passed else 0.0,
                max_score=share,
                feedback=None if o.passed else o.feedback,
                duration=o.duration,
            )
            for o in runs
        ]
        tasks.append(
            TaskResult(
                id=task.id,
                title=task.title,
                score=task.points * sum(o.passed for o in runs) / len(runs) if runs else 0.0,
                max_score=task.points,
                tests=tests,
            )
        )
    return AssignmentResult(
        name=assignment.name,
        title=assignment.spec.title,
        tasks=tasks,
        score=sum(t.score for t in tasks),
        max_score=assignment.spec.max_score,
    )


def grade_assignment(
    assignment: Assignment,
    student: Student,
    reference: ModuleType | None,
    seed: int,
    which: Literal["public", "hidden"] = "hidden",
    time_limit: float | None = None,
    diagnoser: Diagnoser | None = None,
) -> AssignmentResult:
    """Grade ``student`` with one assignment's tests; ``time_limit`` overrides the spec's seconds per test, and
    ``diagnoser`` names the catalogued mistakes that failed tests show."""
    tests_dir = assignment.tests_dir(which)
    cases = collect(tests_dir)
    check_tasks(tests_dir, cases, assignment.spec)
    fixtures = Fixtures(assignment.spec, student, reference, seed, diagnoser)
    limit = time_limit or assignment.spec.time_limit
    # what the tests print or warn goes nowhere, as under pytest's capture
    with warnings.catch_warnings(record=True), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        outcomes = [run_test(case, fixtures, student, limit) for case in cases]
    return score(assignment, outcomes)
