"""What Gradescope's ``run_autograder`` runs for each upload: ``python -m grader.gradescope_autograder``.

It finds the student's modules in ``/autograder/submission`` (the files themselves, one folder holding them, or
one ``.zip``/``.tar.gz`` of them, extracted safely), grades them with the course in ``/autograder/source/course``
and always writes ``/autograder/results/results.json``. A submission it cannot use gets the grader's own message
(what to fix); a failure of the course or the grader gets only :data:`~grader.formats.gradescope.FAILED`, and its
traceback goes to this process's output, which Gradescope shows to instructors only (``stdout_visibility``).
"""

from __future__ import annotations

import stat
import sys
import tempfile
import time
from pathlib import Path

import click

from grader import exits
from grader.batch.archives import ARCHIVE_SUFFIXES, ArchiveError, extract, module_folder
from grader.engine import SubmissionError, grade_submission
from grader.formats import gradescope
from grader.intake import Refused, SubmissionFolder, module_files
from grader.options import visibility_option
from grader.spec import Course, SpecError, Visibility


class Ambiguous(Exception):
    """The upload holds the modules in more than one place; the message names them."""


def skipped(name: str) -> bool:
    """An entry no student means to hand in: a hidden file, or the ``__MACOSX`` folder of a Mac's zip."""
    return name.startswith(".") or name == "__MACOSX"


def holds_modules(folder: SubmissionFolder, wanted: set[str]) -> bool:
    """Whether ``folder`` has an entry named like one of the modules (a link or a folder too: it is refused by name
    when graded)."""
    return any(name in wanted for name, _ in folder.entries())


def find(path: Path, wanted: set[str], archives: bool) -> tuple[Path, str | None]:
    """The folder of ``path`` that holds the modules, and the entry it came from: ``path`` itself, else its one
    subfolder (or, with ``archives``, its one archive) holding them; a link is never followed."""
    with SubmissionFolder.open(path) as upload:
        entries = [(name, mode) for name, mode in upload.entries() if not skipped(name)]
        if any(name in wanted for name, _ in entries):
            return path, None
        found = []
        for name, mode in entries:
            if stat.S_ISDIR(mode):
                with upload.subfolder(name) as folder:
                    if holds_modules(folder, wanted):
                        found.append(f"{name}/")
            elif archives and stat.S_ISREG(mode) and name.lower().endswith(ARCHIVE_SUFFIXES):
                found.append(name)
    if len(found) > 1:
        raise Ambiguous(
            f"your upload holds modules in {len(found)} places ({', '.join(found)}), so which to grade is not clear; "
            "upload one copy of your modules: the files themselves, or one folder or one .zip holding them"
        )
    return (path / found[0], found[0]) if found else (path, None)


def locate(submission: Path, names: list[str], work: Path) -> tuple[Path, str | None]:
    """The folder holding the modules of ``names`` in the upload ``submission`` (an archive extracted into ``work``,
    with :mod:`grader.batch.archives`' caps), and a note saying where they were found when not at its top."""
    wanted = {filename for name in names for filename, _ in module_files(name)}
    folder, entry = find(submission, wanted, archives=True)
    if entry is None:
        return folder, None
    if entry.endswith("/"):
        return folder, f"graded the modules in the folder {entry} of your upload"
    extract(folder, work)
    inner, _ = find(module_folder(work), wanted, archives=False)
    return inner, f"graded the modules in {entry}, the archive of your upload"


def course_failed(error: SpecError, started: float) -> tuple[str, int]:
    """results.json for a course the autograder cannot grade with; the reason goes to the instructor's output."""
    click.echo(f"instructor: the course in the autograder cannot grade: {error}", err=True)
    failed = gradescope.not_graded(gradescope.FAILED, exits.COURSE_FAILED, time.monotonic() - started)
    return failed, exits.COURSE_FAILED


def grade(root: Path, visibility: Visibility | None, started: float) -> tuple[str, int]:
    """results.json's text for the upload in ``root``, and the exit code (see :mod:`grader.exits`)."""
    try:
        course = Course(root / "source" / "course")
        names = list(course.assignments)
        course.check(names)
    except SpecError as error:
        return course_failed(error, started)
    with tempfile.TemporaryDirectory(prefix="grader-upload-") as work:
        try:
            folder, note = locate(root / "submission", names, Path(work))
            report = grade_submission(folder, course)
        except (Refused, ArchiveError, Ambiguous, SubmissionError) as error:
            click.echo(f"error: {error}", err=True)
            elapsed = time.monotonic() - started
            return gradescope.not_graded(str(error), exits.UNUSABLE_INPUT, elapsed), exits.UNUSABLE_INPUT
        except SpecError as error:
            return course_failed(error, started)
    if note:
        report.notes.insert(0, note)
    exits.report_course_errors(report.course_errors)
    text = gradescope.render(report, course, visibility, time.monotonic() - started)
    return text, exits.COURSE_FAILED if report.course_errors else 0


@click.command()
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("/autograder"),
    show_default=True,
    help="Gradescope's folder: the upload in submission/, the zip in source/, results/ for results.json.",
)
@visibility_option
def autograde(root: Path, visibility: Visibility | None) -> None:
    """Grade the upload in ROOT/submission with the course of ROOT/source/course into ROOT/results/results.json,
    which is written whatever happens."""
    started = time.monotonic()
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        text, code = grade(root, visibility, started)
    except Exception as error:  # a bug of the grader's own: never the student's, never shown to them
        failed = gradescope.not_graded(gradescope.FAILED, exits.COURSE_FAILED, time.monotonic() - started)
        results.write_text(failed, encoding="utf-8")
        exits.internal_error(error)
    results.write_text(text, encoding="utf-8")
    sys.exit(code)


if __name__ == "__main__":
    autograde()
