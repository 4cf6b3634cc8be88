"""What every output format says the same way: scores as a student reads them, and which tests failed."""

from __future__ import annotations

from grader.escape import safe_text
from grader.results import AssignmentResult, TaskResult, TestResult


def points(value: float) -> str:
    """A score to two decimals at most: ``2`` rather than ``2.0``, ``1.67`` rather than ``1.6666666666666667``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent(score: float, max_score: float) -> float:
    """``score`` as a percentage of ``max_score`` (0 when there is nothing to score)."""
    return 100.0 * score / max_score if max_score else 0.0


def task_label(task: TaskResult) -> str:
    """A task as a student reads it: its title, then its id."""
    return f"{task.title} ({task.id})"


def passed(task: TaskResult) -> int:
    """How many of the task's tests passed."""
    return sum(t.status == "passed" for t in task.tests)


def failures(assignment: AssignmentResult) -> list[tuple[TaskResult, list[TestResult]]]:
    """The tasks of ``assignment`` with failed or errored tests, each with those tests."""
    found = [(task, [t for t in task.tests if t.status != "passed"]) for task in assignment.tasks]
    return [(task, tests) for task, tests in found if tests]


def printed(assignment: AssignmentResult) -> str:
    """What the student's code printed while the assignment was graded, as safe text."""
    return safe_text(assignment.student_output).rstrip()


def feedback_text(test: TestResult) -> str:
    """The rendered feedback of a test that did not pass, as safe text."""
    return safe_text(test.feedback.render()) if test.feedback else f"the test {test.status} without feedback"
