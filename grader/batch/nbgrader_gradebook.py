"""grader's latest grades written into an nbgrader course's own gradebook, through ``nbgrader.api.Gradebook``, as
``nbgrader autograde`` writes its own: so that formgrader, late penalties, ``nbgrader generate_feedback`` and
``nbgrader export`` keep working for a course that grades with grader.

The course is laid out as ``grader release --format nbgrader`` writes it: an nbgrader assignment per grader
assignment, of one notebook of the same name, with a grade cell ``test_<task>`` per task worth the task's points.
For each student whose latest attempt was graded, and each assignment they handed in to nbgrader (a folder
``submitted/<student>/<assignment>/``), the submission is created or updated (its time from nbgrader's
``timestamp.txt``), each task's score becomes its grade cell's ``auto_score`` (a grader's ``manual_score`` is kept,
and the cell is then flagged for review, as autograde does), and the feedback of the failed tests becomes the
``auto_comment`` of the solution cell of their function. A student nbgrader does not know yet is added, as
autograde adds one, and reported. Late penalties are then assigned by nbgrader's own preprocessor and plugin, as
the course's ``nbgrader_config.py`` configures them. Everything is checked before anything is written.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from grader import exits
from grader.batch.outcome import Outcome
from grader.formats.summary import feedback_text
from grader.intake import Refused, SubmissionFolder
from grader.results import AssignmentResult

if TYPE_CHECKING:
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

CONFIG = "nbgrader_config.py"
TIMESTAMP = "timestamp.txt"
TIMESTAMP_BYTES = 1024
SHOWN = 3
"""Failed tests of a task whose feedback a comment shows in full: the rest are counted."""


class NbgraderError(Exception):
    """The nbgrader course cannot take the grades; the message names its file and the fix."""


@dataclass(frozen=True)
class Submission:
    """One assignment of one student to write: its grades and when nbgrader says it was submitted."""

    student: str
    result: AssignmentResult
    timestamp: datetime | None


@dataclass
class Written:
    """What an export wrote to nbgrader's gradebook, and what it left out and why."""

    submissions: list[Submission] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_submitted: int = 0


@contextmanager
def quiet() -> Iterator[None]:
    """nbgrader's and SQLAlchemy's warnings, which are not the instructor's to act on, silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def quiet_log() -> logging.Logger:
    log = logging.getLogger("grader.nbgrader")
    log.propagate = False
    log.addHandler(logging.NullHandler())
    return log


def course_config(root: Path) -> Config:
    """The course's ``nbgrader_config.py`` (nbgrader's defaults when there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (root / CONFIG).is_file():
        return Config()
    try:
        return PyFileConfigLoader(CONFIG, path=str(root)).load_config()
    except Exception as error:
        raise NbgraderError(f"{root / CONFIG}: cannot be loaded ({type(error).__name__}: {error}); fix it") from None


def course_directory(root: Path, config: Config) -> CourseDirectory:
    """nbgrader's view of the course at ``root``: its root (unless the config sets one), id and database."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config, log=quiet_log())
    if "root" not in config.get("CourseDirectory", {}):
        coursedir.root = str(root.resolve())
    prefix = "sqlite:///"
    if coursedir.db_url.startswith(prefix) and not Path(coursedir.db_url.removeprefix(prefix)).is_file():
        raise NbgraderError(
            f"{coursedir.db_url.removeprefix(prefix)}: no nbgrader gradebook; in {coursedir.root}, run nbgrader "
            "generate_assignment NAME for each assignment first"
        )
    return coursedir


def submitted_folder(coursedir: CourseDirectory, student: str, assignment: str) -> SubmissionFolder | None:
    """``submitted/<student>/<assignment>/`` of the course, opened without following a link (a student's folder
    that is a link, or missing, is not a submission)."""
    try:
        with (
            SubmissionFolder.open(Path(coursedir.root) / coursedir.submitted_directory) as submitted,
            submitted.subfolder(student) as mine,
        ):
            return mine.subfolder(assignment)
    except (Refused, ValueError):
        return None


def submitted_at(folder: SubmissionFolder, notes: list[str]) -> datetime | None:
    """The time in the folder's ``timestamp.txt``, read as nbgrader reads it; None (and a note) when it cannot be."""
    from nbgrader.utils import parse_utc

    try:
        data = folder.read(TIMESTAMP, TIMESTAMP_BYTES)
    except Refused as refused:
        notes.append(f"{folder.label}: {refused}; its submission time is left unset")
        return None
    if data is None:
        return None
    try:
        return parse_utc(data.decode("utf-8").strip())
    except (UnicodeDecodeError, ValueError, OverflowError, TypeError):
        notes.append(f"{folder.label}/{TIMESTAMP} is not a time nbgrader reads; its submission time is left unset")
        return None


def submissions(outcomes: Sequence[Outcome], coursedir: CourseDirectory, written: Written) -> list[Submission]:
    """The students' assignments to write: each assignment of a graded attempt that the student handed in to
    nbgrader. An attempt that errored or is incomplete is left out, and said so."""
    found = []
    for outcome in outcomes:
        if outcome.report is None or outcome.status != "graded":
            why = outcome.reason or "some tests could not run; grade it again with grader batch"
            written.skipped.append(f"{outcome.student}: not written ({outcome.status}: {why})")
            continue
        for result in outcome.report.assignments:
            folder = submitted_folder(coursedir, outcome.student, result.name)
            if folder is None:
                written.not_submitted += 1
                continue
            with folder:
                folder.label = f"submitted/{outcome.student}/{result.name}"
                found.append(Submission(outcome.student, result, submitted_at(folder, written.skipped)))
    return found


def check_cells(gb: Gradebook, chosen: Sequence[Submission], db_url: str) -> None:
    """Every task's grade cell is in nbgrader's notebook of its assignment, worth the task's points."""
    from nbgrader.api import MissingEntry

    fix = "run grader release --format nbgrader, then nbgrader generate_assignment {name}, in the course"
    seen: set[tuple[str, str]] = set()
    for submission in chosen:
        name = submission.result.name
        for task in submission.result.tasks:
            if (name, task.id) in seen:
                continue
            seen.add((name, task.id))
            try:
                cell = gb.find_grade_cell(f"test_{task.id}", name, name)
            except MissingEntry:
                raise NbgraderError(
                    f"{db_url}: nbgrader's assignment {name} has no notebook {name} with a grade cell "
                    f"test_{task.id}; " + fix.format(name=name)
                ) from None
            if abs(cell.max_score - task.max_score) > 1e-9:
                raise NbgraderError(
                    f"{db_url}: the grade cell test_{task.id} of {name} is worth {cell.max_score:g} points, "
                    f"the task {task.max_score:g}; the course changed since it was released: " + fix.format(name=name)
                )


def comments(gb: Gradebook, result: AssignmentResult) -> dict[str, str | None]:
    """The autograder's comment of each solution cell of the assignment's notebook: the feedback of the failed tests
    of the function it defines (``code_<function>``; the first cell takes the rest, and the assignment's notes)."""
    cells = [cell.name for cell in gb.find_notebook(result.name, result.name).solution_cells]
    if not cells:
        return {}
    lines: dict[str, list[str]] = {cell: [] for cell in cells}
    first = cells[0]
    lines[first] += [*([result.error] if result.error else []), *result.notes]
    for task in result.tasks:
        failed = [test for test in task.tests if test.status != "passed"]
        for i, test in enumerate(failed):
            function = test.feedback.function if test.feedback else None
            cell = f"code_{function}" if f"code_{function}" in lines else first
            if i < SHOWN:
                lines[cell].append(f"{test.name}: {feedback_text(test)}")
            elif i == SHOWN:
                lines[cell].append(f"... and {len(failed) - SHOWN} more failed tests of the task {task.id}")
    return {cell: "\n\n".join(text) or None for cell, text in lines.items()}


def write_submission(gb: Gradebook, submission: Submission) -> None:
    """The submission's grades and comments, as ``nbgrader autograde``'s SaveAutoGrades writes its own."""
    name, student = submission.result.name, submission.student
    extra: dict[str, Any] = {"timestamp": submission.timestamp} if submission.timestamp else {}
    gb.update_or_create_submission(name, student, **extra)
    for task in submission.result.tasks:
        grade = gb.find_grade(f"test_{task.id}", name, name, student)
        grade.auto_score = task.score
        grade.needs_manual_grade = grade.manual_score is not None
    for cell, text in comments(gb, submission.result).items():
        gb.find_comment(cell, name, name, student).auto_comment = text
    gb.db.commit()


def assign_late_penalties(config: Config, db_url: str, submission: Submission) -> None:
    """nbgrader's late penalty of the submission's notebook, by its own preprocessor and the course's plugin."""
    import nbformat
    from nbgrader.preprocessors import AssignLatePenalties

    name = submission.result.name
    resources = {"nbgrader": {"notebook": name, "assignment": name, "student": submission.student, "db_url": db_url}}
    AssignLatePenalties(config=config, log=quiet_log()).preprocess(nbformat.v4.new_notebook(), resources)


def export_nbgrader(outcomes: Sequence[Outcome], root: Path) -> Written:
    """Write ``outcomes``' grades into the gradebook of the nbgrader course at ``root``; what was written."""
    try:
        from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:
        raise NbgraderError("nbgrader is not installed here: pip install 'grader[instructor]'") from None

    written = Written()
    config = course_config(root)
    with quiet():
        coursedir = course_directory(root, config)
        chosen = submissions(outcomes, coursedir, written)
        try:
            with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
                check_cells(gb, chosen, coursedir.db_url)
                known = {student.id for student in gb.students}
                for student in sorted({s.student for s in chosen} - known):
                    gb.update_or_create_student(student)
                    written.added.append(student)
                for submission in chosen:
                    write_submission(gb, submission)
                    written.submissions.append(submission)
            for submission in chosen:
                assign_late_penalties(config, coursedir.db_url, submission)
            with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
                for submission in chosen:
                    late = gb.find_submission(submission.result.name, submission.student)
                    if late.total_seconds_late > 0:
                        penalty = sum(nb.late_submission_penalty or 0.0 for nb in late.notebooks)
                        written.late.append(
                            f"{submission.student}/{submission.result.name}: {late.total_seconds_late:.0f} s late, "
                            f"nbgrader's late penalty {penalty:g}"
                        )
        except (SQLAlchemyError, InvalidEntry, MissingEntry) as error:
            raise NbgraderError(f"{coursedir.db_url}: nbgrader's gradebook refused the grades: {error}") from None
    return written


def print_nbgrader_export(outcomes: Sequence[Outcome], root: Path, console: Console) -> None:
    """``grader gradebook export --nbgrader``: write the grades, then say what was written and left out."""
    try:
        written = export_nbgrader(outcomes, root)
    except NbgraderError as error:
        exits.fail(str(error))
    students = {submission.student for submission in written.submissions}
    grades = sum(len(submission.result.tasks) for submission in written.submissions)
    console.print(
        Text(
            f"{root}: nbgrader's gradebook has {len(written.submissions)} submissions of {len(students)} students "
            f"({grades} grades) from grader; {written.not_submitted} assignments not handed in to nbgrader were left "
            "out"
        )
    )
    if written.added:
        console.print(Text(f"added to nbgrader's gradebook, which did not know them: {', '.join(written.added)}"))
    for line in [*written.late, *written.skipped]:
        console.print(Text(line))
