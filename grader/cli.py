"""The ``grader`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import __version__
from grader.batch.command import batch
from grader.batch.export import gradebook_command
from grader.engine import SubmissionError, grade_submission
from grader.formats import FORMATS, render
from grader.formats.text import print_text
from grader.mistakes import MutantError
from grader.options import course_option, grading_options
from grader.sandbox import Limits
from grader.spec import Course, SpecError, default_course
from grader.validate import print_validation, validate_assignment


def load_course(folder: Path | None, submission: Path | None = None) -> Course:
    return Course(folder) if folder else default_course(submission)


@click.group()
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograding for the recurrent-neural-networks module."""


@main.command()
@click.argument("submission", type=click.Path(path_type=Path))
@grading_options
@click.option("--public", is_flag=True, help="Run only the public tests (they need no hidden tests nor reference).")
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True, help="Output format."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here instead of to stdout.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Exit with code 1 when the score is below PCT percent.",
)
def run(
    submission: Path,
    assignments: tuple[str, ...],
    public: bool,
    fmt: str,
    output: Path | None,
    fail_under: float | None,
    course: Path | None,
    time_limit: float | None,
    memory: int,
) -> None:
    """Grade the SUBMISSION folder: every module of the course it holds, as .py files or notebooks."""
    try:
        report = grade_submission(
            submission,
            load_course(course, submission),
            assignments or None,
            "public" if public else "hidden",
            Limits(memory_bytes=memory << 20),
            time_limit,
        )
    except (SubmissionError, SpecError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    if fmt == "text" and output is None:
        print_text(report, Console(highlight=False))
    else:
        text = render(report, fmt)
        if output is None:
            click.echo(text)
        else:
            output.write_text(text, encoding="utf-8")
            click.echo(
                f"{report.score:g} / {report.max_score:g} ({report.percent:.1f}%): {fmt} report in {output}", err=True
            )
    if fail_under is not None and report.percent < fail_under:
        sys.exit(1)


@main.command()
@click.argument("assignments", nargs=-1, metavar="[ASSIGNMENT]...")
@course_option
def validate(assignments: tuple[str, ...], course: Path | None) -> None:
    """Prove the hidden tests: the reference gets full marks, the starter none, every catalogued mistake is
    caught and named. Exits with 1 when one is not."""
    try:
        loaded = load_course(course)
        validations = [validate_assignment(loaded, name) for name in assignments or loaded.assignments]
    except (SpecError, MutantError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    print_validation(validations, Console(highlight=False))
    if not all(v.ok for v in validations):
        sys.exit(1)


main.add_command(batch)
main.add_command(gradebook_command)


from grader.release.command import release  # noqa: E402

main.add_command(release)

from grader.ci.command import ci  # noqa: E402

main.add_command(ci)
