"""Runs one assignment's tests (public or hidden) against a :class:`Student` and scores them by task."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest

from grader.diagnosis import Diagnoser
from grader.feedback import Feedback, GradingFailure
from grader.results import AssignmentResult, Status, TaskResult, TestResult
from grader.spec import Assignment
from grader.student import Student
from grader.testkit import GradingPlugin

PYTEST_INI = Path(__file__).with_name("grading_pytest.ini")


class Outcome:
    """A test's raw verdict as pytest saw it."""

    def __init__(self, nodeid: str, task: str) -> None:
        self.nodeid = nodeid
        self.task = task
        self.passed = False
        self.feedback: Feedback | None = None
        self.duration = 0.0


class OutcomeCollector:
    """A pytest plugin that records every test's verdict and turns its exception into feedback."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.collection_errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext}")

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        marker = item.get_closest_marker("task")
        self.outcomes[item.nodeid] = Outcome(item.nodeid, str(marker.args[0]) if marker and marker.args else "")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        report = (yield).get_result()
        outcome = self.outcomes[item.nodeid]
        outcome.duration += report.duration
        if report.when == "call":
            outcome.passed = report.passed
        if report.failed and outcome.feedback is None:
            outcome.passed = False
            error = call.excinfo.value if call.excinfo else None
            if isinstance(error, GradingFailure):
                outcome.feedback = error.feedback
            elif isinstance(error, AssertionError):
                outcome.feedback = Feedback(kind="value", message=str(error) or "an assertion failed")
            else:
                last_line = report.longreprtext.strip().splitlines()[-1] if report.longreprtext else ""
                outcome.feedback = Feedback(
                    kind="error",
                    message=f"the test failed in its {report.when} phase: {last_line}",
                    traceback=report.longreprtext[-4000:],
                )


def forget_modules_under(folder: Path) -> None:
    """Drop the test modules pytest imported from ``folder``: another folder may hold a file of the same name."""
    prefix = str(folder) + os.sep
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(prefix):
            del sys.modules[name]


def run_pytest(tests_dir: Path, plugins: list[Any]) -> OutcomeCollector:
    """Run the tests in ``tests_dir`` quietly, in this process, and collect every verdict."""
    collector = OutcomeCollector()
    args = [str(tests_dir), "-c", str(PYTEST_INI), "--rootdir", str(tests_dir), "-p", "no:terminal"]
    try:
        code = pytest.main(args, plugins=[*plugins, collector])
    finally:
        forget_modules_under(tests_dir)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        raise RuntimeError(
            f"pytest could not run {tests_dir} (exit code {code}); {' '.join(collector.collection_errors)}"
        )
    if collector.collection_errors:
        raise RuntimeError(f"{tests_dir}: tests failed to collect:\n" + "\n".join(collector.collection_errors))
    return collector


def status(outcome: Outcome) -> Status:
    """Passed; failed (the submission's fault); or error (the test or the sandbox failed: not the student's)."""
    if outcome.passed:
        return "passed"
    return "error" if outcome.feedback and outcome.feedback.kind in ("error", "sandbox") else "failed"


def score(assignment: Assignment, outcomes: list[Outcome]) -> AssignmentResult:
    """Share each task's points equally among its tests and add up what passed."""
    by_task: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_task[outcome.task].append(outcome)
    tasks = []
    for task in assignment.spec.tasks:
        runs = by_task.get(task.id, [])
        share = task.points / len(runs) if runs else 0.0
        tests = [
            TestResult(
                name=o.nodeid,
                assignment=assignment.name,
                task=task.id,
                status=status(o),
                score=share if o.passed else 0.0,
                max_score=share,
                feedback=None if o.passed else o.feedback,
                duration=o.duration,
            )
            for o in runs
        ]
        tasks.append(
            TaskResult(
                id=task.id,
                title=task.title,
                score=task.points * sum(o.passed for o in runs) / len(runs) if runs else 0.0,
                max_score=task.points,
                tests=tests,
            )
        )
    return AssignmentResult(
        name=assignment.name,
        title=assignment.spec.title,
        tasks=tasks,
        score=sum(t.score for t in tasks),
        max_score=assignment.spec.max_score,
    )


def grade_assignment(
    assignment: Assignment,
    student: Student,
    reference: ModuleType | None,
    seed: int,
    which: Literal["public", "hidden"] = "hidden",
    time_limit: float | None = None,
    diagnoser: Diagnoser | None = None,
) -> AssignmentResult:
    """Grade ``student`` with one assignment's tests; ``time_limit`` overrides the spec's seconds per test, and
    ``diagnoser`` names the catalogued mistakes that failed tests show."""
    plugin = GradingPlugin(assignment.spec, student, reference, seed, time_limit, diagnoser)
    collector = run_pytest(assignment.tests_dir(which), [plugin])
    return score(assignment, list(collector.outcomes.values()))
