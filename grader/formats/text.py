"""The report for a terminal: a header, a table of tasks per assignment, then what failed and why.

What the student controls is printed as :class:`~rich.text.Text`, never as markup, and every line printed goes
through :class:`CommandSafe`, since this report may be printed in a CI log.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from grader.escape import no_workflow_commands, safe_text
from grader.formats.summary import failures, feedback_text, passed, percent, points, printed, task_label
from grader.results import AssignmentResult, GradingReport, TestResult

MAX_SHOWN = 3
"""Failed tests shown in full per task: the rest are counted."""


class CommandSafe:
    """A renderable whose lines, as rendered, are safe text that GitHub's runner cannot take for workflow commands
    (a line is checked once wrapped and padded, when it is known where it starts)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in console.render_lines(self.renderable, options, pad=False):
            text = "".join(segment.text for segment in line)
            safe = no_workflow_commands(safe_text(text))
            yield from line if safe == text else [Segment(safe)]
            yield Segment.line()


def print_safe(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` as :class:`CommandSafe` lines, a neutralised line not cropped to the console's width."""
    console.print(CommandSafe(renderable), crop=False)


def plain(text: str, style: str = "") -> Text:
    """``text`` as safe text in one ``style``, never read as rich markup."""
    return Text(safe_text(text), style)


def header(report: GradingReport) -> Panel:
    """Who was graded, how, and the total."""
    total = f"{points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)"
    lines = [
        Text.assemble(("Submission: ", "bold"), plain(report.submission)),
        Text.assemble(("Isolation:  ", "bold"), report.isolation),
        Text.assemble(("Tests:      ", "bold"), report.tests),
        Text.assemble(("Total:      ", "bold"), (total, "bold green" if report.score >= report.max_score else "bold")),
    ]
    if report.attempt_seed:
        lines.append(Text.assemble(("Attempt:    ", "bold"), f"{report.attempt_seed} (--attempt-seed grades it again)"))
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


def scores(report: GradingReport) -> Iterator[RenderableType]:
    """Each assignment's table of tasks (or title), its error and its notes."""
    for assignment in report.assignments:
        yield Text()
        yield task_table(assignment) if assignment.tasks else assignment_title(assignment)
        if assignment.error:
            yield plain(f"Not graded: {assignment.error}", "bold red")
        for note in assignment.notes:
            yield plain(f"Note: {note}", "yellow")


def failed_tests(report: GradingReport) -> Iterator[RenderableType]:
    """Per task, a rule, then the feedback on its first failed tests and how many more failed."""
    for assignment in report.assignments:
        for task, tests in failures(assignment):
            yield Text()
            yield Rule(Text(f"{assignment.name} · {task_label(task)}"), align="left")
            shown = shown_failures(tests)
            for test in shown:
                yield plain(f"✗ {test.name} ({test.status})", "bold red")
                yield Padding(Text(feedback_text(test)), (0, 0, 1, 4))
            if len(tests) > len(shown):
                yield Text(
                    f"... and {len(tests) - len(shown)} more failed tests in this task "
                    "(--format markdown or json lists them all)",
                    style="red",
                )


def printed_output(report: GradingReport) -> Iterator[RenderableType]:
    """What each assignment printed while graded, then the report's notes."""
    for assignment in report.assignments:
        if printed(assignment):
            yield Text()
            yield Rule(Text(f"What {assignment.name} printed while graded"), align="left")
            yield Text(printed(assignment))
    if report.notes:
        yield Text()
        yield from (plain(f"Note: {note}", "yellow") for note in report.notes)


def print_text(report: GradingReport, console: Console) -> None:
    """Print ``report`` to ``console``, in colour when the console is a terminal."""
    print_safe(console, Group(header(report), *scores(report), *failed_tests(report), *printed_output(report)))


def render(report: GradingReport) -> str:
    """The report as plain text, 100 columns wide, without colours."""
    buffer = StringIO()
    print_text(report, Console(file=buffer, width=100, color_system=None, highlight=False))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
