"""``grader ci``: grade a submission in GitHub Actions and write what GitHub shows, all from one report: the job
summary, annotations on the failing functions, GitHub Classroom's result, the pull-request comment, and the
score as step outputs."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import click

from grader import exits
from grader.ci import classroom
from grader.ci.annotations import error_annotations
from grader.ci.classroom import classroom_results, shown, step_outputs
from grader.ci.comment import comment_body, error_body
from grader.ci.locate import Locator
from grader.ci.workflow import append, command, set_outputs
from grader.formats import markdown
from grader.formats.summary import points
from grader.limits import Limits
from grader.options import grading_options, load_course
from grader.release.errors import ReleaseError
from grader.release.hidden import take_key
from grader.sandbox.bubblewrap import bwrap_problem
from grader.spec import Course, SpecError

FileOption = click.Path(path_type=Path, dir_okay=False)
GRADER_FAILED = "the grader failed (a bug of the grader, not of your submission): tell your instructor"
NOTHING_COUNTED = "no test could run (the course's or the grader's fault, not counted): tell your instructor"


def expected_points(course: Course, assignments: tuple[str, ...]) -> float:
    """The points of the assignments to grade: ``assignments``, else the course's."""
    return sum(course.assignment(name).spec.max_score for name in assignments or course.assignments)


def not_graded(
    reason: str, expected: float | None, summary: Path | None, comment: Path | None, classroom_output: Path | None
) -> None:
    """What GitHub shows of a submission that could not be graded: the summary and the comment say why, and
    Classroom gets 0 of ``expected`` with the reason (the score outputs stay unset)."""
    if comment is not None:
        comment.write_text(error_body(reason), encoding="utf-8")
    if summary is not None:
        append(summary, markdown.not_graded(reason))
    if classroom_output is not None:
        set_outputs(classroom_output, step_outputs(classroom.not_graded(reason, expected)))


@contextmanager
def course_for(
    course: Path | None, submission: Path, public: bool, hidden: Path | None, key: bytes | None
) -> Iterator[Course]:
    """The course to grade with: the decrypted hidden bundle (in a temporary folder only this user can read, removed
    afterwards, and only when student code will run under bubblewrap), else ``--course``, else (with ``--public``)
    the submission itself when it is a released bundle, else grader's checkout."""
    if hidden is None or key is None:
        yield load_course(course, submission, public)
        return
    from grader.release.hidden import extract_hidden_bundle  # cryptography, only when it is needed

    problem = bwrap_problem()
    if problem is not None:
        raise SpecError(
            f"{hidden}: not decrypted, since student code would run without the sandbox and could read the hidden "
            f"tests ({problem}); install bubblewrap and allow user namespaces (see docs/ci-course-repository.md)"
        )
    with tempfile.TemporaryDirectory(prefix="grader-hidden-") as tmp:
        yield extract_hidden_bundle(hidden, key, Path(tmp))


@click.command()
@click.argument("submission", type=click.Path(path_type=Path))
@click.option("--public", is_flag=True, help="Run only the public tests.")
@grading_options
@click.option("--hidden-bundle", type=FileOption, help="Grade with this encrypted hidden bundle (grader release).")
@click.option("--key-env", default="GRADER_HIDDEN_KEY", show_default=True, metavar="NAME", help="Its key's variable.")
@click.option("--summary", type=FileOption, envvar="GITHUB_STEP_SUMMARY", help="Append the markdown report here.")
@click.option("--annotations", "annotate", is_flag=True, help="Print ::error annotations on the failing functions.")
@click.option(
    "--classroom-output",
    type=FileOption,
    envvar="GITHUB_OUTPUT",
    help="Append the step outputs earned and missed (GitHub Classroom's results), score, max-score and percent here.",
)
@click.option("--comment", type=FileOption, help="Write the pull-request comment (with its marker) here.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT", help="Exit with 1 below PCT percent.")
def ci(
    submission: Path,
    public: bool,
    assignments: tuple[str, ...],
    course: Path | None,
    hidden_bundle: Path | None,
    key_env: str,
    summary: Path | None,
    annotate: bool,
    classroom_output: Path | None,
    comment: Path | None,
    fail_under: float | None,
    time_limit: float | None,
    limits: Limits,
) -> None:
    """Grade SUBMISSION in GitHub Actions: job summary, annotations, Classroom result, comment, one report."""
    from grader.engine import SubmissionError, grade_submission  # torch: not for --help (see grader/cli.py)

    expected: float | None = None  # the expected assignments' points, once the course is read
    try:
        key = take_key(key_env) if hidden_bundle is not None else None  # out of the environment before anything else
        with course_for(course, submission, public, hidden_bundle, key) as loaded:
            expected = expected_points(loaded, assignments)
            which: Literal["public", "hidden"] = "public" if public else "hidden"
            report = grade_submission(submission, loaded, assignments or None, which, limits, time_limit)
            lines = error_annotations(report, loaded, Locator(submission)) if annotate else []
    except (SubmissionError, SpecError, ReleaseError) as error:
        click.echo(command("error", str(error), title="not graded"))
        not_graded(str(error), expected, summary, comment, classroom_output)
        sys.exit(exits.UNUSABLE_INPUT)
    except Exception as error:
        not_graded(GRADER_FAILED, expected, summary, comment, classroom_output)
        if hidden_bundle is None:
            raise  # the command line's handler prints the traceback and exits 3
        # the log of a pull request to the course is public, and a traceback may quote the hidden tests
        click.echo(
            f"grader: internal error ({type(error).__name__}), not the submission's; its traceback is withheld from "
            "this public log: grade the submission with grader run on the course's side to see it",
            err=True,
        )
        sys.exit(exits.COURSE_FAILED)
    for line in lines:
        click.echo(line)
    if summary is not None:
        append(summary, markdown.render(report))
    if comment is not None:
        comment.write_text(comment_body(report), encoding="utf-8")
    if classroom_output is not None:
        counted = shown(report.max_score) > 0
        results = classroom_results(report) if counted else classroom.not_graded(NOTHING_COUNTED, expected)
        outputs = {
            **step_outputs(results),
            "score": points(report.score),
            "max-score": points(report.max_score),
            "percent": f"{report.percent:.1f}",
        }
        set_outputs(classroom_output, outputs)
    click.echo(f"{points(report.score)} / {points(report.max_score)} ({report.percent:.1f}%)", err=True)
    # the run's log is public in a pull request to the course: there, only the ids of the tests, never their lines
    exits.report_course_errors(report.course_errors, tracebacks=hidden_bundle is None)
    if report.course_errors:
        sys.exit(exits.COURSE_FAILED)
    if fail_under is not None and report.percent < fail_under:
        sys.exit(exits.BELOW_THRESHOLD)
