"""The class roster: who in the LMS each submission folder is, read from the instructor's CSV and joined with the
gradebook. The columns it reads, and the other names each is known by, are :data:`COLUMNS` (see docs/gradebook.md).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from grader.batch.outcome import Outcome
from grader.escape import safe_text

RosterField = Literal["folder", "name", "first_name", "last_name", "lms_id", "sis_id", "login", "email", "section"]

COLUMNS: dict[RosterField, tuple[str, ...]] = {
    "folder": ("folder", "folder name", "submission", "submission folder", "student folder"),
    "name": ("name", "student", "student name", "full name", "sortable name"),
    "first_name": ("first name", "given name"),
    "last_name": ("last name", "surname", "family name"),
    "lms_id": ("lms id", "lms user id", "id", "user id", "canvas id", "canvas user id"),
    "sis_id": ("sis id", "sis user id", "student number", "student id", "idnumber", "id number"),
    "login": ("login", "login id", "sis login id", "username", "user name"),
    "email": ("email", "email address", "e mail", "e mail address", "mail"),
    "section": ("section", "sections"),
}
"""Each field of a roster entry, by the header names it is read from: compared case-insensitively, with ``_``,
``-`` and ``.`` read as spaces (``SIS_User_ID`` is ``sis user id``)."""

HEADERS = {header: field for field, headers in COLUMNS.items() for header in headers}
UNIQUE: tuple[RosterField, ...] = ("lms_id", "sis_id", "login", "email")
"""The identifiers no two students share (an email compared case-insensitively)."""

DELIMITERS = ",;\t"  # a spreadsheet saves CSV with commas, or semicolons where the decimal mark is a comma


class RosterError(Exception):
    """The roster cannot be used: the message names the file, the line and the fix."""


class RosterEntry(BaseModel):
    """One student of the roster; an identifier the file does not give is empty."""

    folder: str = Field(description="the name of the student's entry in the submissions folder")
    name: str = ""
    lms_id: str = Field("", description="the LMS's own user id: Canvas's ID, Moodle's user id")
    sis_id: str = Field("", description="the institution's student number: Canvas's SIS User ID, Moodle's ID number")
    login: str = Field("", description="the login: Canvas's SIS Login ID, Moodle's username")
    email: str = ""
    section: str = ""
    line: int = Field(description="its line in the roster file")


class Roster(BaseModel):
    """A roster file: its entries, by folder, and which of the entries' fields the file gives."""

    path: Path
    fields: list[str] = Field(description="the fields but folder that the file has columns for, in order")
    entries: dict[str, RosterEntry]


@dataclass(frozen=True)
class Student:
    """One row of an export: a submission folder, its roster entry and its latest attempt, either of which may be
    missing."""

    folder: str
    entry: RosterEntry | None
    outcome: Outcome | None

    def field(self, name: str) -> str:
        return str(getattr(self.entry, name)) if self.entry else ""


def normal(header: str) -> str:
    """A header as :data:`COLUMNS` spells it: lower case, ``_ - .`` as spaces, one space between words."""
    return " ".join(re.sub(r"[_\-.]", " ", header).casefold().split())


def read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The file's rows but blank ones as (line, cells), the header's first; a file that is not CSV in UTF-8 is
    refused."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RosterError(f"{path}: cannot be read ({error.strerror}); pass a readable file with --roster") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise RosterError(f"{path}: line {line}: not UTF-8; save the roster as CSV UTF-8") from None
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(DELIMITERS, key=header.count)  # a comma when the header has no delimiter at all
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for cells in reader:
            row = [safe_text(cell).strip() for cell in cells]
            if any(row):  # not a blank line, nor a spreadsheet's empty row
                rows.append((reader.line_num, row))
    except csv.Error as error:
        raise RosterError(f"{path}: line {reader.line_num}: not CSV ({error}); check the quotes on that line") from None
    return rows


def header_fields(path: Path, line: int, header: list[str]) -> dict[int, RosterField]:
    """The field each known column of the header holds, by position; unknown columns are ignored."""
    fields: dict[int, RosterField] = {}
    for position, title in enumerate(header):
        field = HEADERS.get(normal(title))
        if field is None:
            continue
        if field in fields.values():
            (other,) = (header[p] for p, f in fields.items() if f == field)
            raise RosterError(f"{path}: line {line}: columns {other!r} and {title!r} both give the {field}; keep one")
        fields[position] = field
    if "folder" not in fields.values():
        raise RosterError(
            f"{path}: line {line}: no folder column (columns: {', '.join(map(repr, header))}); name the column that "
            "holds each student's submission folder 'folder'"
        )
    return fields


def entry(path: Path, line: int, cells: list[str], fields: dict[int, RosterField], width: int) -> RosterEntry:
    """The entry of one row: a folder name required, a first and last name joined as ``Last, First``."""
    if len(cells) > width and any(cells[width:]):
        raise RosterError(
            f"{path}: line {line}: {len(cells)} cells, but the header has {width}; quote a cell that holds a comma"
        )
    values = {field: cells[position] for position, field in fields.items() if position < len(cells)}
    if not values.get("folder"):
        raise RosterError(f"{path}: line {line}: no folder name; give the student's submission folder, or delete it")
    first, last = values.pop("first_name", ""), values.pop("last_name", "")
    if not values.get("name") and (first or last):
        values["name"] = ", ".join(part for part in (last, first) if part)
    return RosterEntry.model_validate(values | {"line": line})


def read_roster(path: Path) -> Roster:
    """The roster in ``path``: a header, then one line per student; every folder and identifier once."""
    rows = read_rows(path)
    if not rows:
        raise RosterError(f"{path}: empty; its first line names the columns, one of them 'folder'")
    (top, header), body = rows[0], rows[1:]
    fields = header_fields(path, top, header)
    entries: dict[str, RosterEntry] = {}
    seen: dict[tuple[str, str], RosterEntry] = {}
    for line, cells in body:
        student = entry(path, line, cells, fields, len(header))
        if student.folder in entries:
            earlier = entries[student.folder].line
            raise RosterError(f"{path}: line {line}: folder {student.folder!r} is on line {earlier} too; list it once")
        for name in UNIQUE:
            value = getattr(student, name)
            if not value:
                continue
            key = (name, value.casefold() if name == "email" else value)
            if key in seen:
                other = seen[key]
                raise RosterError(
                    f"{path}: line {line}: {name} {value!r} is also {other.folder!r}'s, on line {other.line}; "
                    "give each student their own"
                )
            seen[key] = student
        entries[student.folder] = student
    given = set(fields.values())
    if given & {"first_name", "last_name"}:
        given.add("name")
    return Roster(path=path, fields=[f for f in RosterEntry.model_fields if f in given - {"folder"}], entries=entries)


def join(outcomes: Sequence[Outcome], roster: Roster | None) -> list[Student]:
    """Every student of the gradebook and of the roster, matched by folder name, none left out: the gradebook's in
    its order, then the roster's students who have no submission, in the roster's order."""
    entries = roster.entries if roster else {}
    matched = [Student(outcome.student, entries.get(outcome.student), outcome) for outcome in outcomes]
    submitted = {outcome.student for outcome in outcomes}
    return matched + [Student(folder, entry, None) for folder, entry in entries.items() if folder not in submitted]


def roster_warnings(students: Sequence[Student], roster: Roster) -> list[str]:
    """The submissions the roster does not name, and the roster's students who submitted nothing."""
    lines = []
    if strays := [repr(s.folder) for s in students if s.entry is None]:
        lines.append(f"no roster entry for {', '.join(strays)}: their ids are left empty; add them to {roster.path}")
    if absent := [f"{s.folder!r} (line {s.entry.line})" for s in students if s.entry and s.outcome is None]:
        lines.append(f"no submission from {', '.join(absent)} of {roster.path}: listed without a score")
    return lines
