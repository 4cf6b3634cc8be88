"""``grader batch SUBMISSIONS``: grade a class, keep the grades in the gradebook, show the instructor's summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from grader import exits
from grader.batch.discover import discover, source_hash
from grader.batch.gradebook import Gradebook, GradebookError
from grader.batch.outcome import Outcome
from grader.batch.run import BatchSettings, run_dask, run_local
from grader.batch.summary import print_summary, write_summary
from grader.fingerprint import course_fingerprint
from grader.limits import Limits
from grader.options import attempt_seed_option, grading_options
from grader.spec import Course, SpecError, default_course
from grader.spec import attempt_seed as new_attempt


class RateColumn(ProgressColumn):
    """Submissions per second so far."""

    def render(self, task: Task) -> Text:
        rate = task.completed / task.elapsed if task.elapsed else 0.0
        return Text(f"{rate:.2f}/s")


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Submissions graded at once on this machine.",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("gradebook.sqlite"),
    show_default=True,
    help="The gradebook (SQLite) that keeps every attempt.",
)
@click.option("--regrade", is_flag=True, help="Grade every submission, also those unchanged since their last grade.")
@click.option(
    "--summary",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the instructor's summary (self-contained HTML) here.",
)
@click.option("--scheduler", metavar="ADDRESS", help="Grade on this Dask scheduler (e.g. tcp://host:8786).")
@attempt_seed_option
@grading_options
def batch(
    submissions: Path,
    jobs: int,
    db: Path,
    regrade: bool,
    summary: Path | None,
    scheduler: str | None,
    assignments: tuple[str, ...],
    course: Path | None,
    time_limit: float | None,
    limits: Limits,
    attempt_seed: str | None,
) -> None:
    """Grade every student's submission in SUBMISSIONS: one folder or archive (.zip, .tar.gz) per student,
    or nbgrader's submitted/<student>/<assignment>/ layout."""
    if summary:  # drawn after the class is graded: a missing instructor's extra is said now (see grader.cli)
        import matplotlib  # noqa: F401
    console = Console(highlight=False)
    folder = course.resolve() if course else None
    try:  # the course and the options, checked before anyone is graded
        loaded = Course(folder) if folder else default_course()
        names = [loaded.assignment(name).name for name in assignments or loaded.assignments]
        loaded.check(names)
        fingerprint = course_fingerprint(loaded, names)
        secret = loaded.spec.seed_for("hidden", loaded.assignments_dir / "course.toml")
        attempt = attempt_seed or new_attempt(secret)  # one attempt for the class: see BatchSettings.attempt_seed
    except SpecError as error:
        exits.fail(str(error))
    settings = BatchSettings(
        course=folder,
        expected=names,
        fingerprint=fingerprint,
        attempt_seed=attempt,
        time_limit=time_limit,
        limits=limits,
    )
    try:
        book = Gradebook(db)
    except GradebookError as error:
        exits.fail(str(error))
    with book as gradebook:
        found = discover(submissions)
        for stray in (entry for entry in found if entry.kind == "unknown"):
            console.print(Text(f"{stray.source.name}: neither a folder nor an archive (.zip, .tar.gz); skipped"))
        entries = [(entry, source_hash(entry, names)) for entry in found if entry.kind != "unknown"]
        work = [(e, h) for e, h in entries if regrade or gradebook.needs_grading(e.student, h, fingerprint)]
        console.print(
            Text(
                f"{len(entries)} submissions, {len(entries) - len(work)} unchanged since graded, "
                f"{len(work)} to grade" + (f" on {scheduler}" if scheduler else f" with {jobs} jobs")
            )
        )
        columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("grading", total=len(work))
            graded: list[Outcome] = []

            def keep(outcome: Outcome) -> None:
                gradebook.record(outcome)
                graded.append(outcome)
                progress.advance(task)

            try:
                if scheduler:
                    run_dask(work, settings, scheduler, keep)
                else:
                    run_local(work, settings, jobs, keep)
            except KeyboardInterrupt:
                progress.stop()
                console.print(
                    Text(f"interrupted: {int(progress.tasks[0].completed)} graded submissions are kept in {db}")
                )
                sys.exit(130)
        outcomes = gradebook.latest(known=graded)
    print_summary(outcomes, console)
    if summary:
        write_summary(outcomes, summary)
        console.print(Text(f"summary: {summary}"))
    errors = [f"{outcome.student}: {error}" for outcome in graded for error in outcome.course_errors]
    exits.report_course_errors(errors)
    if errors or any(outcome.status == "incomplete" for outcome in graded):
        sys.exit(exits.COURSE_FAILED)
    if graded and all(outcome.status == "error" for outcome in graded):
        exits.fail(f"{submissions}: no submission could be graded; the reasons are in the table above")
