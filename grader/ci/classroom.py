"""GitHub Classroom's autograding result: the ``result`` step output its grading reporter reads.

The format of Classroom's own graders (``autograding-io-grader``, ``autograding-command-grader``): base64 of the
JSON ``{"version": 1, "status": "pass"|"fail"|"error", "max_score": N, "tests": [{"name", "status", "score",
"message", "test_code", "filename", "line_no", "execution_time"}]}``. The reporter
(``autograding-grading-reporter``) reads it from ``$<RUNNER>_RESULTS`` and adds up the tests' ``score`` against
``max_score``. One test entry per task here, so the total is the report's own.
"""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel

from grader.ci.failures import task_functions
from grader.ci.locate import Locator
from grader.results import AssignmentResult, GradingReport, TaskResult
from grader.spec import Course

ClassroomStatus = Literal["pass", "fail", "error"]


class ClassroomTest(BaseModel):
    """One entry of ``tests``."""

    name: str
    status: ClassroomStatus
    score: float
    message: str | None
    test_code: str
    filename: str
    line_no: int
    execution_time: str


class ClassroomResult(BaseModel):
    """The whole result of one runner."""

    version: Literal[1] = 1
    status: ClassroomStatus
    max_score: float
    tests: list[ClassroomTest]


def task_entry(
    assignment: AssignmentResult, task: TaskResult, where: tuple[str, int | None] | None, which: str
) -> ClassroomTest:
    """A task as one Classroom test: passed when all its tests passed, its score the task's."""
    failed = [t for t in task.tests if t.status != "passed"]
    status: ClassroomStatus = "error" if any(t.status == "error" for t in failed) else "fail" if failed else "pass"
    messages = [f"{t.name}: {t.feedback.message if t.feedback else t.status}" for t in failed]
    return ClassroomTest(
        name=f"{assignment.name}: {task.title}",
        status=status,
        score=task.score,
        message="\n".join(messages) or None,
        test_code=f"grader run .{' --public' if which == 'public' else ''} -a {assignment.name}",
        filename=where[0] if where else "",
        line_no=(where[1] or 0) if where else 0,
        execution_time=f"{sum(t.duration for t in task.tests):.2f}s",
    )


def error_entry(assignment: AssignmentResult, where: tuple[str, int | None] | None) -> ClassroomTest:
    """An assignment that could not be graded, as one errored test worth nothing."""
    return ClassroomTest(
        name=f"{assignment.name}: not graded",
        status="error",
        score=0.0,
        message=assignment.error,
        test_code="",
        filename=where[0] if where else "",
        line_no=0,
        execution_time="0.00s",
    )


def classroom_result(report: GradingReport, course: Course, locator: Locator) -> ClassroomResult:
    """``report`` as Classroom's result: one entry per task (at its first function's ``def``), one per ungraded
    assignment; the entries' scores add up to the report's score, and ``max_score`` is the report's."""
    tests = []
    for assignment in report.assignments:
        if assignment.error:
            tests.append(error_entry(assignment, locator.where(assignment.name, None)))
        for task in assignment.tasks:
            first = task_functions(course, assignment.name, task.id)[0]
            tests.append(task_entry(assignment, task, locator.where(assignment.name, first), report.tests))
    statuses = {t.status for t in tests}
    status: ClassroomStatus = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return ClassroomResult(status=status, max_score=report.max_score, tests=tests)


def encode(result: ClassroomResult) -> str:
    """The step output's value: base64 of the result's JSON, one line."""
    return base64.b64encode(result.model_dump_json().encode()).decode()
