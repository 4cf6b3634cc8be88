"""The exit codes and error lines every command uses, defined once.

0: done. 1: done, below ``--fail-under``. 2: the input cannot be used (a submission, an option, a course file):
the message names it and the fix. 3: the course or the grader failed (a test that could not run, a bug): the
instructor's to fix, never charged to a student.
"""

from __future__ import annotations

import sys
import traceback
from typing import NoReturn

import click

BELOW_THRESHOLD = 1
UNUSABLE_INPUT = 2
COURSE_FAILED = 3


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit with :data:`UNUSABLE_INPUT`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(UNUSABLE_INPUT)


def report_course_errors(errors: list[str], tracebacks: bool = True) -> None:
    """Tell the instructor, on stderr, which tests the course or the grader failed (each error: a line naming the
    test, then its traceback), each distinct traceback once; ``tracebacks``: off where stderr is shown to students,
    as in a pull request's public log, so that only the tests' ids are printed."""
    if not errors:
        return
    click.echo(f"instructor: {len(errors)} test(s) could not run (not counted); fix the course or grader:", err=True)
    shown: set[str] = set()
    for error in errors:
        name, _, trace = error.partition("\n")
        click.echo(name, err=True)
        if tracebacks and trace and trace not in shown:
            shown.add(trace)
            click.echo(trace.rstrip(), err=True)


def internal_error(error: BaseException) -> NoReturn:
    """A bug of the grader's own: its traceback on stderr, and :data:`COURSE_FAILED`."""
    click.echo("grader: internal error (a bug of the grader, not of the submission):", err=True)
    click.echo("".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip(), err=True)
    sys.exit(COURSE_FAILED)
