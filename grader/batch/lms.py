"""The gradebook as an LMS imports it: Canvas's gradebook CSV and Moodle's grade-import CSV (docs/gradebook.md).

Both have one column per assignment graded, holding a student's points when their latest attempt was graded, and
nothing (no grade, to either LMS) when there is no submission, or it could not be graded or was incomplete. Every
text cell goes through :func:`grader.escape.spreadsheet_text`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from grader.batch.outcome import Outcome
from grader.batch.roster import Roster, Student
from grader.escape import spreadsheet_text

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_IDS = ("lms_id", "sis_id", "login")
"""The roster's fields in Canvas's ID, SIS User ID and SIS Login ID columns: what Canvas matches a student by."""
POINTS_POSSIBLE = "Points Possible"
CANVAS_MARKER = re.compile(r"(points)\s*(possible)", re.IGNORECASE)

MoodleKey = Literal["email", "idnumber", "username", "id"]
MOODLE_KEYS: dict[MoodleKey, tuple[str, str]] = {
    "email": ("email", "Email address"),
    "idnumber": ("sis_id", "ID number"),
    "username": ("login", "Username"),
    "id": ("lms_id", "User ID"),
}
"""Each Moodle user field a grade import can map its users by: the roster's field and the column's title."""
MOODLE_NAME = "Student"


class LmsError(Exception):
    """An option or the roster does not fit the LMS export: the message names it and the fix."""


class Column(NamedTuple):
    """An assignment's column: its title in the LMS, its points and whether graded reports disagree on them."""

    assignment: str
    title: str
    points: float | None
    varies: bool


def number(value: float) -> str:
    """A score for a spreadsheet: up to four decimals, no trailing zeros."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def titles(options: Sequence[str]) -> dict[str, str]:
    """``--lms-column ASSIGNMENT=TITLE`` options, by assignment."""
    chosen: dict[str, str] = {}
    for option in options:
        name, _, title = (part.strip() for part in option.partition("="))
        if not name or not title or name in chosen:
            raise LmsError(f"--lms-column {option!r}: give ASSIGNMENT=TITLE once per assignment, as rnn_forward=RNN")
        chosen[name] = title
    return chosen


def columns(outcomes: Sequence[Outcome], titles: Mapping[str, str]) -> list[Column]:
    """A column per assignment any report holds, in report order, titled by ``titles`` or else the assignment's
    name; its points are the most a graded report gives it (none when no report was graded)."""
    points: dict[str, set[float]] = {}
    for outcome in outcomes:
        for assignment in outcome.report.assignments if outcome.report else []:
            maxima = points.setdefault(assignment.name, set())
            if outcome.status == "graded":
                maxima.add(assignment.max_score)
    if unknown := sorted(titles.keys() - points.keys()):
        raise LmsError(f"--lms-column {', '.join(unknown)}: not graded in this gradebook (it has {', '.join(points)})")
    chosen = {name: titles.get(name, name) for name in points}
    if alike := [name for name in chosen if list(chosen.values()).count(chosen[name]) > 1]:
        raise LmsError(f"--lms-column: {' and '.join(alike)} are both titled {chosen[alike[0]]!r}; give each its own")
    return [Column(name, chosen[name], max(maxima, default=None), len(maxima) > 1) for name, maxima in points.items()]


def check_roster(roster: Roster | None, canvas: bool, moodle_key: MoodleKey | None) -> None:
    """Refuse an export the LMS could not match a single student of: no roster, or a roster without the columns."""
    if roster is None:
        if canvas or moodle_key:
            raise LmsError("--canvas and --moodle need --roster FILE: an LMS knows its students by their ids")
        return
    if canvas and not set(CANVAS_IDS) & set(roster.fields):
        raise LmsError(
            f"{roster.path}: no lms_id, sis_id or login column, by which Canvas matches its students; add one"
        )
    if moodle_key and MOODLE_KEYS[moodle_key][0] not in roster.fields:
        field = MOODLE_KEYS[moodle_key][0]
        raise LmsError(f"{roster.path}: no {field} column for --moodle-key {moodle_key}; add one or pick another key")


def score(student: Student, column: Column) -> str:
    """The student's points for the column's assignment, or empty when their latest attempt was not graded."""
    outcome = student.outcome
    if outcome is None or outcome.status != "graded" or outcome.report is None:
        return ""
    points = (a.score for a in outcome.report.assignments if a.name == column.assignment)
    return next((number(value) for value in points), "")


def names(folders: Sequence[str]) -> str:
    return ", ".join(map(repr, folders))


def warnings(students: Sequence[Student], columns: Sequence[Column]) -> list[str]:
    """What the LMS files leave empty and why, and each assignment whose points differ between students."""
    lines = []
    for status in ("error", "incomplete"):
        if folders := [s.folder for s in students if s.outcome and s.outcome.status == status]:
            lines.append(f"{names(folders)}: {status}, so left without a score in the LMS files; see the CSV's reason")
    lines.extend(
        f"{column.assignment} is worth {column.points:g} points to some students and less to others (graded by "
        "another version of the course): run grader batch again to regrade them"
        for column in columns
        if column.varies and column.points is not None
    )
    return lines


def canvas_student(student: Student) -> str:
    """Canvas's Student cell: the roster's name, else the folder's, and never one Canvas could take for its Points
    Possible row (a folder's name is the student's choice)."""
    return spreadsheet_text(CANVAS_MARKER.sub(r"\1-\2", student.field("name") or student.folder))


def write_canvas(students: Sequence[Student], columns: Sequence[Column], path: Path) -> list[str]:
    """Canvas's gradebook import: its five student columns, a column per assignment, and the Points Possible row
    first; the warnings for the students Canvas cannot match."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*CANVAS_COLUMNS, *(spreadsheet_text(column.title) for column in columns)])
        points = ["" if column.points is None else number(column.points) for column in columns]
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", *points])
        for student in students:
            ids = [spreadsheet_text(student.field(field)) for field in (*CANVAS_IDS, "section")]
            writer.writerow([canvas_student(student), *ids, *(score(student, column) for column in columns)])
    if unmatched := [s.folder for s in students if s.entry and not any(s.field(field) for field in CANVAS_IDS)]:
        return [f"{names(unmatched)}: no ID, SIS User ID or SIS Login ID in the roster, so Canvas cannot match them"]
    return []


def write_moodle(students: Sequence[Student], columns: Sequence[Column], key: MoodleKey, path: Path) -> list[str]:
    """Moodle's grade import: the column of ``key``, the student's name (the roster's, else the folder's: for the
    reader, Moodle ignores it), then a column per assignment. The students without that identifier come first,
    where Moodle refuses the whole file rather than give their grades to another student (it takes a row whose
    identifier is empty for the previous row's student); the warnings for them."""
    field, title = MOODLE_KEYS[key]
    ordered = sorted(students, key=lambda student: bool(student.field(field)))  # stable: the order within each
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([title, MOODLE_NAME, *(spreadsheet_text(column.title) for column in columns)])
        for student in ordered:
            cells = (student.field(field), student.field("name") or student.folder)
            writer.writerow([*map(spreadsheet_text, cells), *(score(student, column) for column in columns)])
    if unmatched := [s.folder for s in ordered if not s.field(field)]:
        return [f"{names(unmatched)}: no {field} in the roster; Moodle refuses the file until each row has one"]
    return []
