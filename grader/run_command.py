"""``grader run SUBMISSION``: grade one submission and print or write its report."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console

from grader import exits
from grader.escape import no_workflow_commands
from grader.formats import FORMATS, gradescope, render
from grader.formats.text import print_text
from grader.limits import Limits
from grader.options import attempt_seed_option, grading_options, load_course, visibility_option
from grader.spec import SpecError, Visibility


@click.command()
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
@attempt_seed_option
@visibility_option
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
    attempt_seed: str | None,
    visibility: Visibility | None,
    fail_under: float | None,
    course: Path | None,
    time_limit: float | None,
    limits: Limits,
) -> None:
    """Grade the SUBMISSION folder: every assignment of the course (or those of --assignment), each module as a .py
    file or a notebook; one not handed in scores 0."""
    from grader.engine import SubmissionError, grade_submission  # torch: not for --help (see grader/cli.py)

    if attempt_seed is not None and public:
        exits.fail("--attempt-seed goes with the hidden tests: --public's inputs are the same in every run")
    if visibility is not None and fmt != "gradescope":
        exits.fail("--visibility goes with --format gradescope")
    started = time.monotonic()
    try:
        loaded = load_course(course, submission, public)
        report = grade_submission(
            submission,
            loaded,
            assignments or None,
            "public" if public else "hidden",
            limits,
            time_limit,
            attempt=attempt_seed,
        )
    except (SubmissionError, SpecError) as error:
        exits.fail(str(error))
    if fmt == "text" and output is None:
        print_text(report, Console(highlight=False))
    else:
        if fmt == "gradescope":  # each test shown as its assignment.toml says, and the run's time
            text = gradescope.render(report, loaded, visibility, time.monotonic() - started)
        else:
            text = render(report, fmt)
        if output is None:
            click.echo(no_workflow_commands(text))  # stdout may be a CI log, where a line can be a command
        else:
            output.write_text(text, encoding="utf-8")
            click.echo(
                f"{report.score:g} / {report.max_score:g} ({report.percent:.1f}%): {fmt} report in {output}", err=True
            )
    exits.report_course_errors(report.course_errors)
    if report.course_errors:
        sys.exit(exits.COURSE_FAILED)
    if fail_under is not None and report.percent < fail_under:
        sys.exit(exits.BELOW_THRESHOLD)
