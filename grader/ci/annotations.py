"""GitHub annotations: one ``::error`` per failing function, on its ``def`` line in the student's file."""

from __future__ import annotations

from grader.ci.failures import failures_by_function
from grader.ci.locate import Locator
from grader.ci.workflow import command
from grader.formats.summary import feedback_text
from grader.results import GradingReport, TestResult
from grader.spec import Course

SHOWN = 5  # failing tests named after the first one


def more(tests: list[TestResult]) -> str:
    """The other failing tests of a function, the first few by name."""
    if not tests:
        return ""
    names = ", ".join(t.name for t in tests[:SHOWN]) + (f" and {len(tests) - SHOWN} more" if len(tests) > SHOWN else "")
    return f"\n\n{len(tests)} more failing test(s): {names}"


def error_annotations(report: GradingReport, course: Course, locator: Locator) -> list[str]:
    """The workflow commands annotating ``report``'s failures: per function, then per ungradable module."""
    lines = []
    for assignment in report.assignments:
        if assignment.error:
            module = locator.where(assignment.name, None)
            file = {"file": module[0]} if module else {}
            lines.append(command("error", assignment.error, **file, title=f"{assignment.name}: not graded"))
        for function, tests in failures_by_function(course, assignment).items():
            found = locator.where(assignment.name, function)
            where: dict[str, str | int] = {}
            if found:
                where["file"] = found[0]
                if found[1] is not None:
                    where["line"] = found[1]
            message = feedback_text(tests[0]) + more(tests[1:])
            name = function or f"task {tests[0].task}"
            title = f"{assignment.name}.{name}: {len(tests)} failing test(s)"
            lines.append(command("error", message, **where, title=title))
    return lines
