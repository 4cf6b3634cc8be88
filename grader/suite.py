"""An assignment's tests folder, collected by pytest once per process and then called test by test without it.

pytest does the collecting, so discovery, ``parametrize``, test classes, marks and assertion rewriting are
exactly pytest's (with ``grading_pytest.ini``); :func:`collect` keeps what it found for the life of the
process, and :meth:`Case.run` calls one test with the fixture values it is given. A test written so that the
grader cannot run it (an unknown fixture or task, a skip mark) is still a :class:`Case`, whose run raises
:class:`AuthoringError` saying what is wrong: it is the course's to fix, and never counts for or against a student.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _pytest import assertion

from grader.testkit import FIXTURES, AuthoringError

PYTEST_INI = Path(__file__).with_name("grading_pytest.ini")
UNSUPPORTED_MARKS = ("skip", "skipif", "xfail")
"""Marks the grader does not honour: a test it collects always runs and counts."""


@dataclass(frozen=True)
class Case:
    """One collected test: its id, the task it counts for, the fixtures and parameters it takes, and what is wrong
    with it when the grader cannot run it as written."""

    item: pytest.Function
    task: str | None
    fixtures: tuple[str, ...]
    params: dict[str, Any]
    problem: str | None = None

    @property
    def nodeid(self) -> str:
        return self.item.nodeid

    def run(self, fixtures: dict[str, Any]) -> None:
        """Call the test (a method on a fresh instance of its class, as pytest does) with ``fixtures`` and its
        parameters; a failed ``assert`` explains itself as under pytest (``At index 1 diff: ...``). A test with a
        problem is not called: AuthoringError."""
        __tracebackhide__ = True
        if self.problem is not None:
            raise AuthoringError(self.problem)
        item = self.item
        test = getattr(item.cls(), item.originalname) if item.cls else item.obj
        hooks = assertion.pytest_runtest_protocol(item)  # pytest's own set-up of its comparison messages
        next(hooks)
        try:
            test(**fixtures, **self.params)
        finally:
            hooks.close()


def forget_modules_under(folder: Path) -> None:
    """Drop the test modules pytest imported from ``folder`` from ``sys.modules``: another folder may hold a file
    of the same name, which pytest would otherwise take for this one. The collected tests keep theirs alive."""
    prefix = str(folder) + os.sep
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(prefix):
            del sys.modules[name]


class Collector:
    """The pytest plugin of a collection run: it registers the task mark and keeps what pytest found."""

    def __init__(self) -> None:
        self.items: list[pytest.Item] = []
        self.errors: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "task(id): the task of assignment.toml this test counts for")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def task_problem(task: str | None, tasks: frozenset[str]) -> str | None:
    """What is wrong with a test's task mark (``task``: its id, None when it has none), given the known ``tasks``."""
    if task in tasks:
        return None
    mark = "has no @pytest.mark.task(ID)" if task is None else f"is marked @pytest.mark.task({task!r})"
    return f"{mark}, but every test needs one whose ID is a task of assignment.toml: {', '.join(sorted(tasks))}"


def problem_of(item: pytest.Function, task: str | None, tasks: frozenset[str], params: dict[str, Any]) -> str | None:
    """Why the grader cannot run the test ``item`` as written, in words that follow its id; None when it can."""
    unsupported = [name for name in UNSUPPORTED_MARKS if item.get_closest_marker(name)]
    if unsupported:
        return f"is marked @pytest.mark.{unsupported[0]}, which the grader does not support: it runs every test"
    requested = item._fixtureinfo.initialnames  # its arguments, usefixtures and autouse fixtures, not what they need
    unknown = [name for name in requested if name not in FIXTURES and name not in params]
    if unknown:
        return (
            f"requests the fixture {', '.join(unknown)}, which the grader does not provide; the fixtures are "
            f"{', '.join(FIXTURES)} (and the test's parametrize arguments)"
        )
    return task_problem(task, tasks)


def case_of(item: pytest.Item, tasks: frozenset[str]) -> Case | str:
    """The test ``item`` as a :class:`Case` (with its problem, if any: see :func:`problem_of`), or, for what is not a
    test function, why the grader cannot run it at all."""
    if not isinstance(item, pytest.Function):
        return f"{item.nodeid}: not a test function, which is all the grader runs"
    params = dict(item.callspec.params) if hasattr(item, "callspec") else {}
    arguments = [
        name
        for name, parameter in inspect.signature(item.obj).parameters.items()
        if parameter.default is parameter.empty and name not in params and name in FIXTURES
    ]
    marker = item.get_closest_marker("task")
    task = marker.args[0] if marker and marker.args and isinstance(marker.args[0], str) else None
    return Case(item, task, tuple(arguments), params, problem_of(item, task, tasks, params))


@functools.cache
def collect(tests_dir: Path, tasks: frozenset[str], files: tuple[Path, ...] | None = None) -> tuple[Case, ...]:
    """The tests in ``tests_dir`` (only ``files`` of it, when given), collected by pytest on the first call in this
    process, with no ``conftest.py`` loaded, each checked against the assignment's task ids ``tasks``; RuntimeError
    naming the folder when pytest cannot collect them or one is not a test function."""
    collector = Collector()
    args = [
        *(str(path) for path in files or (tests_dir,)),
        "--noconftest",
        "-c",
        str(PYTEST_INI),
        "--rootdir",
        str(tests_dir),
        "-p",
        "no:terminal",
        "--disable-plugin-autoload",
        "--collect-only",
    ]
    try:
        code = pytest.main(args, plugins=[collector])
    finally:
        forget_modules_under(tests_dir)
    cases = [case_of(item, tasks) for item in collector.items]
    errors = collector.errors + [case for case in cases if isinstance(case, str)]
    if errors:
        raise RuntimeError(f"{tests_dir}: tests failed to collect:\n" + "\n".join(errors))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RuntimeError(f"pytest could not collect {tests_dir} (exit code {code})")
    return tuple(case for case in cases if isinstance(case, Case))
