"""The gradebook's exports: one CSV row per student for the registrar, one feedback file per student."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import click
from rich.console import Console
from rich.text import Text

from grader import exits
from grader.batch import lms
from grader.batch.gradebook import Gradebook, GradebookError
from grader.batch.lms import number
from grader.batch.nbgrader_gradebook import print_nbgrader_export
from grader.batch.outcome import Outcome
from grader.batch.roster import Roster, RosterError, join, read_roster, roster_warnings
from grader.escape import spreadsheet_text
from grader.formats import render
from grader.results import GradingReport

FeedbackFormat = Literal["markdown", "html"]
SUFFIXES: dict[FeedbackFormat, str] = {"markdown": ".md", "html": ".html"}
NAME_MAX = 255  # bytes in a file name on Linux's file systems


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


def export_csv(outcomes: Sequence[Outcome], path: Path, roster: Roster | None = None) -> None:
    """A row per student: a score per assignment and per task, total, max, percent, status and reason.

    A column a student's report lacks (an assignment not graded for them) is empty, as are all the scores
    of a student whose submission could not be graded. A text cell is never a formula (:func:`spreadsheet_text`).
    With a roster, its columns follow ``student`` (the folder's name), and a student of the roster who has no
    submission has a row too, whose status is ``missing``.
    """
    fields = roster.fields if roster else []
    columns = ["student", *fields, *score_columns(outcomes), "total", "max", "percent", "status", "reason"]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, columns, restval="")
        writer.writeheader()
        for student in join(outcomes, roster):
            outcome = student.outcome
            status, reason = (outcome.status, outcome.reason or "") if outcome else ("missing", "no submission")
            text = {"student": student.folder, **{f: student.field(f) for f in fields}}
            text |= {"status": status, "reason": reason}
            row = {column: spreadsheet_text(value) for column, value in text.items()}
            writer.writerow(row | (scores(outcome.report) if outcome and outcome.report else {}))


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
@click.option(
    "--roster",
    "roster_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A CSV of who each submission folder is (folder, name, lms_id, sis_id, login, email, section).",
)
@click.option("--canvas", type=click.Path(path_type=Path, dir_okay=False), help="Write Canvas's grade import here.")
@click.option("--moodle", type=click.Path(path_type=Path, dir_okay=False), help="Write Moodle's grade import here.")
@click.option(
    "--moodle-key",
    type=click.Choice(list(lms.MOODLE_KEYS)),
    default="email",
    show_default=True,
    help="The Moodle user field that the Moodle file identifies students by.",
)
@click.option(
    "--lms-column",
    "lms_columns",
    multiple=True,
    metavar="ASSIGNMENT=TITLE",
    help="ASSIGNMENT's column title in the Canvas and Moodle files (Canvas: 'Name (id)' is its assignment id).",
)
@click.option(
    "--nbgrader",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    metavar="COURSE_DIR",
    help="Write the scores and feedback into this nbgrader course's own gradebook (see docs/nbgrader.md).",
)
def export(
    db: Path,
    csv_path: Path | None,
    feedback: Path | None,
    fmt: FeedbackFormat,
    roster_path: Path | None,
    canvas: Path | None,
    moodle: Path | None,
    moodle_key: lms.MoodleKey,
    lms_columns: tuple[str, ...],
    nbgrader: Path | None,
) -> None:
    """Export every student's latest attempt as a CSV of scores and as feedback files, and for Canvas or Moodle."""
    if not any((csv_path, feedback, canvas, moodle, nbgrader)):
        raise click.UsageError(
            "nothing to export: give --csv FILE, --feedback DIR, --canvas FILE, --moodle FILE or --nbgrader COURSE_DIR"
        )
    try:
        roster = read_roster(roster_path) if roster_path else None
        lms.check_roster(roster, canvas is not None, moodle_key if moodle else None)
        with Gradebook(db) as gradebook:
            outcomes = gradebook.latest()
        columns = lms.columns(outcomes, lms.titles(lms_columns))
    except (GradebookError, RosterError, lms.LmsError) as error:
        exits.fail(str(error))
    console = Console(highlight=False, soft_wrap=True)
    students = join(outcomes, roster)
    warnings = roster_warnings(students, roster) if roster else []
    if csv_path:
        export_csv(outcomes, csv_path, roster)
        console.print(Text(f"{csv_path}: {len(students)} students"))
    if feedback:
        try:
            written = export_feedback(outcomes, feedback, fmt)
        except ValueError as error:
            exits.fail(str(error))
        console.print(Text(f"{feedback}: {len(written)} feedback files"))
    if canvas or moodle:
        warnings += lms.warnings(students, columns)
    if canvas:
        warnings += lms.write_canvas(students, columns, canvas)
        console.print(Text(f"{canvas}: {len(students)} students, for Canvas's gradebook import"))
    if moodle:
        warnings += lms.write_moodle(students, columns, moodle_key, moodle)
        console.print(Text(f"{moodle}: {len(students)} students, for Moodle's grade import by {moodle_key}"))
    if nbgrader:
        print_nbgrader_export(outcomes, nbgrader, console)
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
