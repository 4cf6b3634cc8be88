"""Command-line options shared by several commands, each defined once."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, get_args

import click

from grader import exits
from grader.limits import Limits
from grader.spec import ATTEMPT_PATTERN, Course, Visibility, bundle_course, default_course

F = TypeVar("F", bound=Callable[..., Any])

visibility_option = click.option(
    "--visibility",
    type=click.Choice(get_args(Visibility)),
    help="Gradescope: when students see the result and every test of it (visible: at once, hidden: never, "
    "after_due_date, after_published), instead of each assignment.toml's [gradescope] (hidden tests after_due_date, "
    "public tests visible).",
)

course_option = click.option(
    "--course",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    envvar="GRADER_COURSE",
    help="The course folder (holding assignments/); default: $GRADER_COURSE, else (with --public only) the released "
    "student bundle being graded, else the checkout grader runs from (an installed grader has none).",
)
assignment_option = click.option(
    "--assignment",
    "-a",
    "assignments",
    multiple=True,
    metavar="NAME",
    help="Only this assignment (the module stem, e.g. gated_cells); repeatable.",
)
time_limit_option = click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Wall time per test, instead of each assignment's own.",
)


def attempt_seed_value(ctx: click.Context, param: click.Parameter, seed: str | None) -> str | None:
    """``--attempt-seed``: 32 hex digits, as a report's ``attempt_seed``; exit 2 naming the option otherwise."""
    if seed is not None and not re.fullmatch(ATTEMPT_PATTERN, seed):
        exits.fail(f"--attempt-seed {seed!r}: give the 32 hex digits of a report's or the gradebook's attempt_seed")
    return seed


attempt_seed_option = click.option(
    "--attempt-seed",
    callback=attempt_seed_value,
    metavar="HEX",
    help="Grade the hidden tests on the inputs of an earlier attempt (a report's or the gradebook's attempt_seed), "
    "to reproduce its grades and feedback; by default every run is a new attempt with inputs of its own.",
)


def memory_limits(ctx: click.Context, param: click.Parameter, mib: int) -> Limits:
    """``--memory MIB`` as the workers' :class:`Limits`."""
    return Limits(memory_bytes=mib << 20)


memory_option = click.option(
    "--memory",
    "limits",
    type=click.IntRange(min=256),
    callback=memory_limits,
    metavar="MIB",
    default=Limits().memory_bytes >> 20,
    show_default=True,
    help=f"MiB of {Limits.model_fields['memory_bytes'].description} (each student's worker).",
)


def grading_options(command: F) -> F:
    """The options of every command that grades submissions."""
    for option in (memory_option, time_limit_option, course_option, assignment_option):
        command = option(command)
    return command


def load_course(folder: Path | None, submission: Path | None = None, public: bool = False) -> Course:
    """The course of ``--course`` (or ``$GRADER_COURSE``); else, only for ``--public``, the released student bundle
    ``submission`` when it is one; else the installed checkout. A submission never supplies the hidden tests."""
    if folder:
        return Course(folder)
    bundle = bundle_course(submission) if public and submission is not None else None
    return bundle or default_course()
