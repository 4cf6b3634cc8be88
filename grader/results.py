"""The result model: one submission's grades, from which every output format is rendered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from grader.feedback import Feedback, SafeText

Status = Literal["passed", "failed", "error"]


class TestResult(BaseModel):
    """One test: its verdict, its share of the task's points and, when it failed, why."""

    __test__ = False  # not a pytest test class

    name: SafeText = Field(description="the test's id within its assignment, e.g. test_cell.py::test_batch[2]")
    assignment: str
    task: str
    status: Status
    score: float
    max_score: float
    feedback: Feedback | None = None
    duration: float = 0.0


class TaskResult(BaseModel):
    """A task of an assignment: points shared equally by its tests."""

    id: str
    title: str
    score: float
    max_score: float
    tests: list[TestResult]


class AssignmentResult(BaseModel):
    """One module of the submission graded by one assignment's tests."""

    name: str
    title: str
    score: float
    max_score: float
    tasks: list[TaskResult]
    notes: list[SafeText] = Field(default_factory=list, description="what the grader did that the student should know")
    error: SafeText | None = Field(None, description="why the assignment could not be graded at all")
    student_output: SafeText = Field("", description="what the student's code printed while graded (capped, cleaned)")
    course_errors: list[str] = Field(
        default_factory=list,
        exclude=True,
        description="for the instructor only, never in a student's report: the tracebacks of the tests the course "
        "or the grader failed (not counted)",
    )

    @property
    def tests(self) -> list[TestResult]:
        return [t for task in self.tasks for t in task.tests]


class GradingReport(BaseModel):
    """A whole submission."""

    submission: SafeText
    assignments: list[AssignmentResult]
    isolation: str = Field(description="how the student's code was isolated from the grading")
    tests: Literal["hidden", "public"] = "hidden"
    attempt_seed: str | None = Field(
        None,
        description="the seed of this attempt's hidden inputs (each attempt draws its own): `grader run "
        "--attempt-seed` with it grades the same inputs again, feedback included",
    )
    notes: list[SafeText] = Field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(a.score for a in self.assignments)

    @property
    def max_score(self) -> float:
        return sum(a.max_score for a in self.assignments)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def incomplete(self) -> int:
        """Tests that could not run because of the course, the grader or the sandbox: not counted either way, and
        retried by the next ``grader batch``."""
        return sum(t.status == "error" for a in self.assignments for t in a.tests)

    @property
    def course_errors(self) -> list[str]:
        """What the instructor must fix: every test the course or the grader failed, with its traceback."""
        return [error for assignment in self.assignments for error in assignment.course_errors]
