"""The report for a terminal: a header, a table of tasks per assignment, then what failed and why."""

from __future__ import annotations

from io import StringIO

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.formats.summary import failures, feedback_text, passed, percent, points, printed, task_label
from grader.results import AssignmentResult, GradingReport, TestResult

MAX_SHOWN = 3
"""Failed tests shown in full per task: the rest are counted."""


def header(report: GradingReport) -> Panel:
    """Who was graded, how, and the total."""
    total = f"{points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)"
    lines = [
        Text.assemble(("Submission: ", "bold"), report.submission),
        Text.assemble(("Isolation:  ", "bold"), report.isolation),
        Text.assemble(("Tests:      ", "bold"), report.tests),
        Text.assemble(("Total:      ", "bold"), (total, "bold green" if report.score >= report.max_score else "bold")),
    ]
    return Panel(Group(*lines), title="Grading report", title_align="left")


def assignment_title(assignment: AssignmentResult) -> Text:
    """The assignment's name and score."""
    score = f"{points(assignment.score)} / {points(assignment.max_score)}"
    percentage = percent(assignment.score, assignment.max_score)
    return Text(f"{assignment.title} ({assignment.name}): {score} ({percentage:.1f}%)", style="bold")


def task_table(assignment: AssignmentResult) -> Table:
    """One row per task: its score and how many of its tests passed."""
    table = Table(title=assignment_title(assignment), title_justify="left")
    table.add_column("Task")
    table.add_column("Score", justify="right")
    table.add_column("Tests passed", justify="right")
    for task in assignment.tasks:
        style = "green" if passed(task) == len(task.tests) else "red"
        table.add_row(
            Text(task_label(task)),
            Text(f"{points(task.score)} / {points(task.max_score)}", style=style),
            Text(f"{passed(task)} / {len(task.tests)}", style=style),
        )
    return table


def shown_failures(tests: list[TestResult]) -> list[TestResult]:
    """At most ``MAX_SHOWN`` failed tests of a task, one of each kind of feedback and named mistake first."""
    seen: set[tuple[str, str | None] | None] = set()
    first: list[TestResult] = []
    rest: list[TestResult] = []
    for test in tests:
        key = (test.feedback.kind, test.feedback.diagnosis) if test.feedback else None
        (rest if key in seen else first).append(test)
        seen.add(key)
    return (first + rest)[:MAX_SHOWN]


def print_text(report: GradingReport, console: Console) -> None:
    """Print ``report`` to ``console``, in colour when the console is a terminal."""
    console.print(header(report))
    for assignment in report.assignments:
        console.print()
        console.print(task_table(assignment) if assignment.tasks else assignment_title(assignment))
        if assignment.error:
            console.print(Text(f"Not graded: {assignment.error}", style="bold red"))
        for note in assignment.notes:
            console.print(Text(f"Note: {note}", style="yellow"))
    for assignment in report.assignments:
        for task, tests in failures(assignment):
            console.print()
            console.rule(Text(f"{assignment.name} · {task_label(task)}"), align="left")
            shown = shown_failures(tests)
            for test in shown:
                console.print(Text(f"✗ {test.name} ({test.status})", style="bold red"))
                console.print(Padding(Text(feedback_text(test)), (0, 0, 1, 4)))
            if len(tests) > len(shown):
                console.print(
                    Text(
                        f"... and {len(tests) - len(shown)} more failed tests in this task "
                        "(--format markdown or json lists them all)",
                        style="red",
                    )
                )
    for assignment in report.assignments:
        if printed(assignment):
            console.print()
            console.rule(Text(f"What {assignment.name} printed while graded"), align="left")
            console.print(Text(printed(assignment)))
    if report.notes:
        console.print()
        for note in report.notes:
            console.print(Text(f"Note: {note}", style="yellow"))


def render(report: GradingReport) -> str:
    """The report as plain text, 100 columns wide, without colours."""
    buffer = StringIO()
    print_text(report, Console(file=buffer, width=100, color_system=None, highlight=False))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
