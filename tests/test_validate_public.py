"""``grader validate`` runs the public tests as a student's released bundle runs them: each must pass on the
reference and fail on the starter, and one that does not is named on a line of its own."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.cli import main
from grader.spec import Course, default_course
from grader.starter import write_starter
from grader.validate import public_results, public_verdicts

BROKEN = """
import pytest


@pytest.mark.task("count")
def test_wrong_count(grade):
    grade.expect("parameter_count", "rnn", 3, 4, expected=0)


@pytest.mark.task("count")
def test_checks_nothing(grade):
    pass
"""
"""Public tests of shapes: one the reference fails, one the starter passes."""


@pytest.mark.parametrize("name", sorted(default_course().assignments))
def test_every_public_test_passes_on_the_reference_and_fails_on_the_starter(course: Course, name: str):
    reference = course.reference_module(name)
    with tempfile.TemporaryDirectory() as folder:
        on_reference, on_starter = public_results(
            course, course.assignment(name), reference, write_starter(reference, Path(folder))
        )
    assert [v.problem for v in public_verdicts(on_reference, on_starter)] == [None, None]
    assert on_reference.max_score > 0 and on_reference.score == pytest.approx(on_reference.max_score)
    assert on_starter.score == 0 and not on_reference.course_errors


def shapes_course(root: Path, public_tests: str) -> Path:
    """A course of the shapes assignment alone, with ``public_tests`` as one more public test file."""
    (root / "reference").mkdir(parents=True)
    shutil.copy(ROOT / "reference" / "shapes.py", root / "reference")
    shutil.copytree(ROOT / "assignments" / "shapes", root / "assignments" / "shapes")
    shutil.copy(ROOT / "assignments" / "course.toml", root / "assignments")
    (root / "assignments" / "shapes" / "tests" / "public" / "test_broken_public.py").write_text(public_tests)
    return root


def test_validate_names_the_public_tests_the_reference_fails_or_the_starter_passes(tmp_path: Path):
    result = CliRunner().invoke(main, ["validate", "shapes", "--course", str(shapes_course(tmp_path, BROKEN))])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "shapes: the reference fails the public test test_broken_public.py::test_wrong_count" in lines
    assert "shapes: the starter passes the public test test_broken_public.py::test_checks_nothing" in lines
    assert "mutation score: " in result.output  # the hidden tests are proven all the same
