"""The report as GitHub-flavoured markdown: for a job summary, a pull-request comment or a feedback file.

Every string the student controls is inline text escaped to render literally (:func:`markdown_text`), text in raw
HTML (:func:`inline_html`), or a fenced block (:func:`fenced`); never a code span, which a backtick would close.
"""

from __future__ import annotations

from grader.escape import fenced, inline_html, markdown_text
from grader.formats.summary import failures, feedback_text, passed, percent, points, printed, task_label
from grader.results import AssignmentResult, GradingReport


def cell(text: str) -> str:
    """The course's own ``text`` made safe for one cell of a markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def details(summary: str, text: str) -> list[str]:
    """A collapsible block: ``summary`` (HTML) and, inside, ``text`` fenced."""
    return ["<details>", f"<summary>{summary}</summary>", "", fenced(text), "", "</details>", ""]


def assignment_section(assignment: AssignmentResult) -> list[str]:
    """An assignment's heading, its table of tasks, its error and its notes."""
    score = f"{points(assignment.score)} / {points(assignment.max_score)}"
    percentage = percent(assignment.score, assignment.max_score)
    lines = [f"## {assignment.title} (`{assignment.name}`): {score} ({percentage:.1f}%)", ""]
    if assignment.error:
        lines += [f"> **Not graded:** {markdown_text(assignment.error)}", ""]
    if assignment.tasks:
        lines += ["| Task | Score | Tests passed |", "| --- | ---: | ---: |"]
        lines += [
            f"| {cell(task_label(task))} | {points(task.score)} / {points(task.max_score)}"
            f" | {passed(task)} / {len(task.tests)} |"
            for task in assignment.tasks
        ]
        lines.append("")
    lines += [f"- Note: {markdown_text(note)}" for note in assignment.notes]
    return [*lines, ""] if assignment.notes else lines


def feedback_section(assignment: AssignmentResult) -> list[str]:
    """One collapsible block per failed test of ``assignment``, grouped by task."""
    lines: list[str] = []
    for task, tests in failures(assignment):
        lines += [f"### {assignment.name} · {task_label(task)}", ""]
        for test in tests:
            message = test.feedback.message.splitlines()[0] if test.feedback and test.feedback.message else test.status
            summary = f"<code>{inline_html(test.name)}</code> ({test.status}): {inline_html(message)}"
            lines += details(summary, feedback_text(test))
    return lines


def not_graded(message: str, lead: str = "Not graded") -> str:
    """The whole report of a submission that could not be graded at all: ``**<lead>:** <message>``."""
    return f"# Grading report\n\n**{lead}:** {markdown_text(message)}\n"


def render(report: GradingReport) -> str:
    """The whole report as markdown."""
    lines = [
        f"# Grading report: {markdown_text(report.submission)}",
        "",
        f"**Total: {points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)**"
        f" · isolation: {report.isolation} · tests: {report.tests}"
        + (f" · attempt {report.attempt_seed}" if report.attempt_seed else ""),
        "",
    ]
    for assignment in report.assignments:
        lines += assignment_section(assignment)
    feedback = [line for assignment in report.assignments for line in feedback_section(assignment)]
    if feedback:
        lines += ["## Feedback", "", *feedback]
    for assignment in report.assignments:
        if printed(assignment):
            summary = f"What <code>{inline_html(assignment.name)}</code> printed while graded"
            lines += details(summary, printed(assignment))
    if report.notes:
        lines += ["## Notes", "", *(f"- {markdown_text(note)}" for note in report.notes), ""]
    return "\n".join(lines)
