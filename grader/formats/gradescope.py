"""The report as Gradescope's autograder ``results.json``.

The schema is Gradescope's "Autograder Specifications" (gradescope-autograders.readthedocs.io/en/latest/specs/):
only its keys, and only its values for ``status``, ``visibility`` and ``output_format``. Gradescope has no key for
one test's time, so it goes in the test's ``extra_data``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from grader.escape import markdown_text, safe_text
from grader.formats.summary import feedback_text, percent, points
from grader.results import AssignmentResult, GradingReport
from grader.spec import Course, GradescopeSpec, Visibility

OutputFormat = Literal["text", "html", "simple_format", "md", "ansi"]
FAILED = (
    "The autograder failed on this submission through no fault of yours: the problem is in the course or the "
    "grader, not in your code. Please tell your instructor, who can see what went wrong in the autograder's output."
)


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
    execution_time: float | None = None
    output: str
    output_format: OutputFormat = "md"
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"  # the autograder's output, tracebacks included, is the instructor's
    extra_data: dict[str, Any]
    tests: list[GradescopeTest]

    def json_text(self) -> str:
        """``results.json``'s text, without ``execution_time`` when it was not measured."""
        return self.model_dump_json(indent=2, exclude_none=True)


def summary(report: GradingReport) -> str:
    """The submission-wide output: the total, each assignment's score, errors and notes, in markdown."""
    lines = [f"**Total: {points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)**", ""]
    if report.incomplete:
        lines[1:1] = ["", f"**{report.incomplete} test(s) could not run and are not counted.** {FAILED}"]
    for assignment in report.assignments:
        score = f"{points(assignment.score)} / {points(assignment.max_score)}"
        lines.append(f"- {assignment.title} (`{assignment.name}`): {score}")
        if assignment.error:
            lines.append(f"  - not graded: {markdown_text(assignment.error)}")
        lines += [f"  - note: {markdown_text(note)}" for note in assignment.notes]
    if report.notes:
        lines += ["", *(f"- note: {markdown_text(note)}" for note in report.notes)]
    return "\n".join(lines)


def tests(
    assignment: AssignmentResult,
    number: int,
    visibility: Visibility | None,
    spec: GradescopeSpec,
    which: Literal["hidden", "public"],
) -> list[GradescopeTest]:
    """An assignment's tests numbered ``<assignment>.<task>.<test>``, and one failed entry if it was not graded;
    each test shown as ``visibility`` says, else as ``spec`` says for its task (public tests: at once)."""
    entries = [
        GradescopeTest(
            name=f"{task.title}: {test.name}",
            number=f"{number}.{task_number}.{test_number}",
            score=test.score,
            max_score=test.max_score,
            status="passed" if test.status == "passed" else "failed",
            output=feedback_text(test) if test.status != "passed" else "",
            tags=[assignment.name, task.id],
            visibility=visibility
            or ("visible" if which == "public" else spec.task_visibility.get(task.id, spec.visibility)),
            extra_data={
                "assignment": assignment.name,
                "task": task.id,
                "kind": test.feedback.kind if test.feedback else None,
                "diagnosis": test.feedback.diagnosis if test.feedback else None,
            }
            | ({"execution_time": round(test.duration, 3)} if test.duration else {}),  # 0: the test never ran
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
                visibility=visibility or "visible",  # what was handed in, not a hidden test's result
                extra_data={"assignment": assignment.name, "task": None, "kind": None, "diagnosis": None},
            )
        )
    return entries


def results(
    report: GradingReport,
    course: Course | None = None,
    visibility: Visibility | None = None,
    execution_time: float | None = None,
) -> GradescopeResults:
    """``results.json`` of ``report``: each test shown as ``visibility`` says (the result as a whole too), else as
    its assignment's ``[gradescope]`` in ``course`` says (without a course, as its defaults say)."""
    specs = {a.name: course.assignment(a.name).spec.gradescope for a in report.assignments} if course else {}
    return GradescopeResults(
        score=report.score,
        execution_time=None if execution_time is None else round(execution_time, 2),
        output=summary(report),
        visibility=visibility or "visible",
        extra_data={
            "submission": safe_text(report.submission),
            "isolation": report.isolation,
            "max_score": report.max_score,
            "percent": percent(report.score, report.max_score),
        },
        tests=[
            entry
            for i, a in enumerate(report.assignments, 1)
            for entry in tests(a, i, visibility, specs.get(a.name, GradescopeSpec()), report.tests)
        ],
    )


def render(
    report: GradingReport,
    course: Course | None = None,
    visibility: Visibility | None = None,
    execution_time: float | None = None,
) -> str:
    """``results.json``'s text for ``report`` (see :func:`results`)."""
    return results(report, course, visibility, execution_time).json_text()


def not_graded(message: str, exit_code: int, execution_time: float | None = None) -> str:
    """``results.json`` of a submission that could not be graded at all: 0 points, with ``message`` (the grader's
    own words on what the student must fix, or :data:`FAILED`) as literal text, shown at once."""
    return GradescopeResults(
        score=0.0,
        execution_time=None if execution_time is None else round(execution_time, 2),
        output=f"**Your submission could not be graded.**\n\n{markdown_text(message)}",
        extra_data={"exit_code": exit_code},
        tests=[],
    ).json_text()
