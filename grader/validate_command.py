"""``grader validate [ASSIGNMENT]...``: prove an assignment's tests and mistake catalogue."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import exits
from grader.options import course_option, load_course
from grader.spec import SpecError


@click.command()
@click.argument("assignments", nargs=-1, metavar="[ASSIGNMENT]...")
@course_option
def validate(assignments: tuple[str, ...], course: Path | None) -> None:
    """Prove the tests: the reference gets full marks and passes every public test, the starter gets none and fails
    every public test, every catalogued mistake is caught and named, no test fails for the course's reasons. Exits
    with 1 when one is not."""
    from grader.mistakes import MutantError  # torch: not for --help (see grader/cli.py)
    from grader.validate import print_validation, validate_assignment

    try:
        loaded = load_course(course)
        validations = [validate_assignment(loaded, name) for name in assignments or loaded.assignments]
    except (SpecError, MutantError) as error:
        exits.fail(str(error))
    print_validation(validations, Console(highlight=False))
    if not all(v.ok for v in validations):
        sys.exit(1)
