"""The report as Gradescope's autograder ``results.json``.

The schema is Gradescope's "Autograder Specifications" (gradescope-autograders.readthedocs.io/en/latest/specs/):
only its keys, and only its values for ``status``, ``visibility`` and ``output_format``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from grader.escape import markdown_text, safe_text
from grader.formats.summary import feedback_text, percent, points
from grader.results import AssignmentResult, GradingReport

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
OutputFormat = Literal["text", "html", "simple_format", "md", "ansi"]


class GradescopeTest(BaseModel):
    """One entry of ``tests``."""

    name: str
    number: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    output_format: OutputFormat = "text"
    tags: list[str]
    visibility: Visibility
    extra_data: dict[str, Any]


class GradescopeResults(BaseModel):
    """The whole ``results.json``."""

    score: float
    output: str
    output_format: OutputFormat = "md"
    visibility: Visibility
    stdout_visibility: Visibility = "hidden"
    extra_data: dict[str, Any]
    tests: list[GradescopeTest]


def summary(report: GradingReport) -> str:
    """The submission-wide output: the total, each assignment's score, errors and notes, in markdown."""
    lines = [f"**Total: {points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)**", ""]
    for assignment in report.assignments:
        score = f"{points(assignment.score)} / {points(assignment.max_score)}"
        lines.append(f"- {assignment.title} (`{assignment.name}`): {score}")
        if assignment.error:
            lines.append(f"  - not graded: {markdown_text(assignment.error)}")
        lines += [f"  - note: {markdown_text(note)}" for note in assignment.notes]
    if report.notes:
        lines += ["", *(f"- note: {markdown_text(note)}" for note in report.notes)]
    return "\n".join(lines)


def tests(assignment: AssignmentResult, number: int, visibility: Visibility) -> list[GradescopeTest]:
    """An assignment's tests numbered ``<assignment>.<task>.<test>``, and one failed entry if it was not graded."""
    entries = [
        GradescopeTest(
            name=f"{task.title}: {test.name}",
            number=f"{number}.{task_number}.{test_number}",
            score=test.score,
            max_score=test.max_score,
            status="passed" if test.status == "passed" else "failed",
            output=feedback_text(test) if test.status != "passed" else "",
            tags=[assignment.name, task.id],
            visibility=visibility,
            extra_data={
                "assignment": assignment.name,
                "task": task.id,
                "kind": test.feedback.kind if test.feedback else None,
                "diagnosis": test.feedback.diagnosis if test.feedback else None,
            },
        )
        for task_number, task in enumerate(assignment.tasks, 1)
        for test_number, test in enumerate(task.tests, 1)
    ]
    if assignment.error:
        entries.append(
            GradescopeTest(
                name=f"{assignment.title}: not graded",
                number=str(number),
                score=0.0,
                max_score=max(0.0, assignment.max_score - sum(t.max_score for t in assignment.tests)),
                status="failed",
                output=safe_text(assignment.error),
                tags=[assignment.name],
                visibility=visibility,
                extra_data={"assignment": assignment.name, "task": None, "kind": None, "diagnosis": None},
            )
        )
    return entries


def render(report: GradingReport, visibility: Visibility = "visible") -> str:
    """``results.json`` for ``report``; ``visibility`` applies to the submission and to every test."""
    results = GradescopeResults(
        score=report.score,
        output=summary(report),
        visibility=visibility,
        extra_data={
            "submission": safe_text(report.submission),
            "isolation": report.isolation,
            "max_score": report.max_score,
            "percent": percent(report.score, report.max_score),
        },
        tests=[entry for i, a in enumerate(report.assignments, 1) for entry in tests(a, i, visibility)],
    )
    return results.model_dump_json(indent=2)
