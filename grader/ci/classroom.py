"""GitHub Classroom's autograding results: two runners, ``earned`` and ``missed``, on which the grading reporter's
log, the notice Classroom reads and our own summary give the same total.

Each runner's result has the format of Classroom's own graders (``autograding-command-grader``,
``autograding-python-grader``): base64 of the JSON ``{"version": 1, "status": "pass"|"fail"|"error", "max_score":
N, "tests": [{"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}]}``.
``classroom-resources/autograding-grading-reporter@v1`` reads it from ``$<RUNNER>_RESULTS`` and computes two
totals by different rules (its ``src/helpers/test-helpers.js`` ``getTestScore``, ``src/aggregate-results.js`` and
``src/notify-classroom.js``):

- its log (``Total points for <runner>: x/y`` and the runner table's ``Total:`` row) scores a runner as
  ``passing entries / entries * max_score``: the share of entries that pass, whatever their scores;
- the notice Classroom reads (``Points X/Y``, then ``{"totalPoints": X, "maxPoints": Y}``) adds up every entry's
  ``score``, passed or not, and every runner's ``max_score``, skipping runners whose ``max_score`` is 0, and says
  nothing at all when the maximum is 0.

One entry per task with unequal points makes them disagree (13 tasks, 8 passing, 60 points: the log's 8/13 * 60 =
36.92, the notice's 36.5). They agree for any points and any partial score when every runner has one entry that
passes with ``score == max_score`` or fails with ``score == 0``: ``earned`` passes with the points earned, S, as
its score and maximum; ``missed`` fails with the rest, M - S, as its maximum. The log says ``earned`` S/S,
``missed`` 0/(M - S), total S of M; the notice says ``Points S/M``. S and M are the report's total and maximum as
the summary prints them (:func:`grader.formats.summary.points`); the reporter adds up S and M - S in JavaScript's
doubles, which gives M exactly when M is a multiple of a quarter point (see :func:`rest` for other maximums).
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from grader.escape import no_workflow_commands, safe_text
from grader.formats.summary import points
from grader.results import GradingReport, TestResult

ClassroomStatus = Literal["pass", "fail", "error"]
RUNNERS = ("earned", "missed")
"""The reporter's runner ids, in its order: ``grader ci``'s step outputs, read from ``$EARNED_RESULTS`` and
``$MISSED_RESULTS``."""
UNKNOWN_MAX = 1.0
"""The maximum reported when the course itself could not be read: Classroom shows no score for a maximum of 0."""


class ClassroomTest(BaseModel):
    """One entry of ``tests``; the reporter prints its name, its ``test_code`` and, when it errored, its message."""

    name: str
    status: ClassroomStatus
    score: float
    message: str | None
    test_code: str
    filename: str = ""
    line_no: int = Field(0, description="0: the reporter prints any other value as the entry's line")
    duration: float = Field(0.0, description="seconds, as autograding-python-grader writes it")


class ClassroomResult(BaseModel):
    """The whole result of one runner."""

    version: Literal[1] = 1
    status: ClassroomStatus
    max_score: float
    tests: list[ClassroomTest]


def shown(value: float) -> float:
    """``value`` as the summary prints it (two decimals at most), as a number."""
    return float(points(value))


def rest(total: float, part: float) -> float:
    """The maximum of ``missed``: ``total - part`` to two decimals, which the reporter adds to ``part`` in double
    precision (in which ``0.1 + 0.2`` is not ``0.3``). The sum is ``total`` for every ``total`` that is a multiple
    of a quarter point, as every course whose points are in halves or quarters has. For any other ``total`` where it
    is not, the double nearest it whose sum is (printed with more digits in the reporter's log), and where there is
    none (``0.8 + x`` is never 3.78 in doubles), the two decimals: the reporter's maximum is then one double off
    (3.7800000000000002)."""
    nearest = float(Decimal(repr(total)) - Decimal(repr(part)))
    candidates = (nearest, math.nextafter(nearest, math.inf), math.nextafter(nearest, -math.inf), total - part)
    return next((value for value in candidates if part + value == total), nearest)


def one_runner(
    status: ClassroomStatus,
    name: str,
    score: float,
    max_score: float,
    message: str | None = None,
    test_code: str = "",
    duration: float = 0.0,
) -> ClassroomResult:
    """A runner with one entry; its text is printed by the reporter to the CI log, so no line of it is a workflow
    command."""
    test = ClassroomTest(
        name=no_workflow_commands(safe_text(name)),
        status=status,
        score=score,
        message=None if message is None else no_workflow_commands(safe_text(message)),
        test_code=test_code,
        duration=duration,
    )
    return ClassroomResult(status=status, max_score=max_score, tests=[test])


def seconds(tests: list[TestResult]) -> float:
    """The time ``tests`` took, in seconds."""
    return round(sum(t.duration for t in tests), 3)


def lost_points(report: GradingReport) -> list[str]:
    """A line per assignment or task that did not get all its points."""
    lines = []
    for assignment in report.assignments:
        if assignment.error:
            lines.append(f"{assignment.name}: {points(assignment.max_score)} points missed: {assignment.error}")
        for task in assignment.tasks:
            if task.score < task.max_score:
                missed = points(task.max_score - task.score)
                lines.append(f"{assignment.name}: {task.title}: {missed} of {points(task.max_score)} points missed")
    return lines


def classroom_results(report: GradingReport) -> tuple[ClassroomResult, ClassroomResult]:
    """``report``, which has points to score, as the runners ``earned`` and ``missed``; ``missed`` errors when some
    tests could not run (the course's or the grader's fault, not counted), so that the reporter prints why."""
    earned, total = shown(report.score), shown(report.max_score)
    missed = rest(total, earned)
    tests = [t for a in report.assignments for t in a.tests]
    passed = [t for t in tests if t.status == "passed"]
    local = "grader run . --public" if report.tests == "public" else ""
    lines = lost_points(report)
    status: ClassroomStatus = "error" if report.incomplete else "fail" if missed else "pass"
    if report.incomplete:
        lines.insert(0, f"{report.incomplete} test(s) could not run (the course's or the grader's fault, not counted)")
    return (
        one_runner(
            "pass" if earned else "fail",
            f"{points(earned)} of {points(total)} points earned",
            earned,
            earned,
            duration=seconds(passed),
        ),
        one_runner(
            status,
            f"{points(missed)} of {points(total)} points missed" + (": the job summary says why" if missed else ""),
            0.0,
            missed,
            message="\n".join(lines) or None,
            test_code=local if missed else "",
            duration=seconds([t for t in tests if t.status != "passed"]),
        ),
    )


def not_graded(reason: str, max_score: float | None) -> tuple[ClassroomResult, ClassroomResult]:
    """The runners of a submission that could not be graded: 0 of ``max_score`` (:data:`UNKNOWN_MAX` when the
    course could not be read), ``missed`` an error whose message, the reason, the reporter prints."""
    total = shown(max_score) if max_score else UNKNOWN_MAX
    return (
        one_runner("fail", f"0 of {points(total)} points earned", 0.0, 0.0),
        one_runner("error", f"{points(total)} of {points(total)} points missed", 0.0, total, f"not graded: {reason}"),
    )


def step_outputs(results: tuple[ClassroomResult, ClassroomResult]) -> dict[str, str]:
    """The step outputs the reporter reads, by runner id: base64 of each result's JSON, one line."""
    return {
        runner: base64.b64encode(r.model_dump_json().encode()).decode()
        for runner, r in zip(RUNNERS, results, strict=True)
    }
