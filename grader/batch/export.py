"""The gradebook's exports: one CSV row per student for the registrar, one feedback file per student."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import click
from rich.console import Console
from rich.text import Text

from grader.batch.gradebook import Gradebook, GradebookError
from grader.batch.outcome import Outcome
from grader.escape import spreadsheet_text
from grader.formats import render
from grader.results import GradingReport

FeedbackFormat = Literal["markdown", "html"]
SUFFIXES: dict[FeedbackFormat, str] = {"markdown": ".md", "html": ".html"}
NAME_MAX = 255  # bytes in a file name on Linux's file systems


def number(value: float) -> str:
    """A score for a spreadsheet: up to four decimals, no trailing zeros."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def score_columns(outcomes: Sequence[Outcome]) -> list[str]:
    """``<assignment>`` and ``<assignment>.<task>`` for every assignment and task graded, in report order."""
    columns: dict[str, None] = {}
    for outcome in outcomes:
        for assignment in outcome.report.assignments if outcome.report else []:
            columns[assignment.name] = None
            columns.update((f"{assignment.name}.{task.id}", None) for task in assignment.tasks)
    return list(columns)


def scores(report: GradingReport) -> dict[str, str]:
    """The report's score columns and its totals."""
    row = {"total": number(report.score), "max": number(report.max_score), "percent": f"{report.percent:.2f}"}
    for assignment in report.assignments:
        row[assignment.name] = number(assignment.score)
        row.update((f"{assignment.name}.{task.id}", number(task.score)) for task in assignment.tasks)
    return row


def export_csv(outcomes: Sequence[Outcome], path: Path) -> None:
    """A row per student: a score per assignment and per task, total, max, percent, status and reason.

    A column a student's report lacks (an assignment not graded for them) is empty, as are all the scores
    of a student whose submission could not be graded. A text cell is never a formula (:func:`spreadsheet_text`).
    """
    columns = ["student", *score_columns(outcomes), "total", "max", "percent", "status", "reason"]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, columns, restval="")
        writer.writeheader()
        for outcome in outcomes:
            text = {"student": outcome.student, "status": outcome.status, "reason": outcome.reason or ""}
            row = {column: spreadsheet_text(value) for column, value in text.items()}
            writer.writerow(row | (scores(outcome.report) if outcome.report else {}))


def not_graded(outcome: Outcome) -> GradingReport:
    """A report with no assignments whose note says why the submission could not be graded."""
    return GradingReport(
        submission=outcome.student,
        assignments=[],
        isolation="not graded",
        notes=[f"Your submission could not be graded: {outcome.reason}"],
    )


def plain_file_name(name: str) -> bool:
    """Whether ``name`` names a file in a folder as it is: printable, no folder in it, not too long."""
    ordinary = name.isprintable() and Path(name).name == name and name not in {"", ".", ".."}
    return ordinary and len(name.encode()) <= NAME_MAX


def feedback_name(student: str, fmt: FeedbackFormat) -> str:
    """``<student>.md`` or ``<student>.html``; a student id that is not a plain file name is refused."""
    name = student + SUFFIXES[fmt]
    if not plain_file_name(student) or not plain_file_name(name):
        raise ValueError(f"student id {student!r} is not a file name: rename the entry in the submissions folder")
    return name


def export_feedback(outcomes: Sequence[Outcome], folder: Path, fmt: FeedbackFormat = "markdown") -> list[Path]:
    """One feedback file per student in ``folder``, rendered by :mod:`grader.formats`; the files written."""
    paths = [folder / feedback_name(outcome.student, fmt) for outcome in outcomes]
    folder.mkdir(parents=True, exist_ok=True)
    for outcome, path in zip(outcomes, paths, strict=True):
        path.write_text(render(outcome.report or not_graded(outcome), fmt), encoding="utf-8")
    return paths


@click.group("gradebook")
def gradebook_command() -> None:
    """The gradebook that grader batch keeps: every attempt of every student."""


@gradebook_command.command()
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=Path("gradebook.sqlite"),
    show_default=True,
    help="The gradebook to read.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write each student's latest scores here: a column per assignment and task.",
)
@click.option(
    "--feedback",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each student's latest report to this folder, one file per student.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(SUFFIXES)),
    default="markdown",
    show_default=True,
    help="The feedback files' format.",
)
def export(db: Path, csv_path: Path | None, feedback: Path | None, fmt: FeedbackFormat) -> None:
    """Export every student's latest attempt as a CSV of scores and as feedback files."""
    if csv_path is None and feedback is None:
        raise click.UsageError("nothing to export: give --csv FILE, --feedback DIR or both")
    try:
        with Gradebook(db) as gradebook:
            outcomes = gradebook.latest()
    except GradebookError as error:
        raise click.ClickException(str(error)) from None
    console = Console(highlight=False, soft_wrap=True)
    if csv_path:
        export_csv(outcomes, csv_path)
        console.print(Text(f"{csv_path}: {len(outcomes)} students"))
    if feedback:
        try:
            written = export_feedback(outcomes, feedback, fmt)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        console.print(Text(f"{feedback}: {len(written)} feedback files"))
