"""The report as GitHub-flavoured markdown: for a job summary, a pull-request comment or a feedback file."""

from __future__ import annotations

import html
import re

from grader.formats.summary import failures, feedback_text, passed, percent, points, printed, task_label
from grader.results import AssignmentResult, GradingReport


def cell(text: str) -> str:
    """``text`` made safe for one cell of a markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def fenced(text: str, info: str = "text") -> str:
    """``text`` in a fenced code block whose fence no backtick run inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def assignment_section(assignment: AssignmentResult) -> list[str]:
    """An assignment's heading, its table of tasks, its error and its notes."""
    score = f"{points(assignment.score)} / {points(assignment.max_score)}"
    percentage = percent(assignment.score, assignment.max_score)
    lines = [f"## {assignment.title} (`{assignment.name}`): {score} ({percentage:.1f}%)", ""]
    if assignment.error:
        lines += [f"> **Not graded:** {cell(assignment.error)}", ""]
    if assignment.tasks:
        lines += ["| Task | Score | Tests passed |", "| --- | ---: | ---: |"]
        lines += [
            f"| {cell(task_label(task))} | {points(task.score)} / {points(task.max_score)}"
            f" | {passed(task)} / {len(task.tests)} |"
            for task in assignment.tasks
        ]
        lines.append("")
    lines += [f"- Note: {note}" for note in assignment.notes]
    return [*lines, ""] if assignment.notes else lines


def feedback_section(assignment: AssignmentResult) -> list[str]:
    """One collapsible block per failed test of ``assignment``, grouped by task."""
    lines: list[str] = []
    for task, tests in failures(assignment):
        lines += [f"### {assignment.name} · {task_label(task)}", ""]
        for test in tests:
            message = test.feedback.message.splitlines()[0] if test.feedback and test.feedback.message else test.status
            summary = f"<code>{html.escape(test.name)}</code> ({test.status}): {html.escape(message)}"
            lines += [
                "<details>",
                f"<summary>{summary}</summary>",
                "",
                fenced(feedback_text(test)),
                "",
                "</details>",
                "",
            ]
    return lines


def render(report: GradingReport) -> str:
    """The whole report as markdown."""
    lines = [
        f"# Grading report: {report.submission}",
        "",
        f"**Total: {points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)**"
        f" · isolation: {report.isolation} · tests: {report.tests}",
        "",
    ]
    for assignment in report.assignments:
        lines += assignment_section(assignment)
    feedback = [line for assignment in report.assignments for line in feedback_section(assignment)]
    if feedback:
        lines += ["## Feedback", "", *feedback]
    for assignment in report.assignments:
        if printed(assignment):
            summary = f"What <code>{assignment.name}</code> printed while graded"
            lines += [
                "<details>",
                f"<summary>{summary}</summary>",
                "",
                fenced(printed(assignment)),
                "",
                "</details>",
                "",
            ]
    if report.notes:
        lines += ["## Notes", "", *(f"- {note}" for note in report.notes), ""]
    return "\n".join(lines)
