"""A report's failing tests grouped by the function of the student's that they blame."""

from __future__ import annotations

from collections import defaultdict

from grader.results import AssignmentResult, GradingReport, TestResult
from grader.spec import Course


def task_functions(course: Course, assignment: str, task: str) -> list[str]:
    """The functions a task grades, as its assignment.toml declares them."""
    return course.assignment(assignment).spec.task(task).functions


def blamed_function(course: Course, test: TestResult) -> str | None:
    """The function a failed test names, else its task's only function; None when the task grades several."""
    if test.feedback and test.feedback.function:
        return test.feedback.function
    functions = task_functions(course, test.assignment, test.task)
    return functions[0] if len(functions) == 1 else None


def failures_by_function(course: Course, assignment: AssignmentResult) -> dict[str | None, list[TestResult]]:
    """The failed and errored tests of ``assignment`` by blamed function, in the order the tests ran."""
    grouped: dict[str | None, list[TestResult]] = defaultdict(list)
    for test in assignment.tests:
        if test.status != "passed":
            grouped[blamed_function(course, test)].append(test)
    return dict(grouped)


def failing(report: GradingReport) -> bool:
    """Whether any test of ``report`` did not pass or any assignment could not be graded."""
    return any(a.error or any(t.status != "passed" for t in a.tests) for a in report.assignments)
