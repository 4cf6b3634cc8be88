"""Every assignment's tests agree with the reference and reject the starter made from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.runner import grade_assignment
from grader.spec import Course, default_course
from grader.starter import write_starter
from grader.student import LocalStudent, import_module_from

NAMES = sorted(default_course().assignments)
WHICH = ["hidden", "public"]


def test_all_seven_assignments_exist():
    expected = ["rnn_forward", "bptt", "gated_cells", "shapes", "taxonomy", "attention", "name_classifier"]
    assert NAMES == sorted(expected)


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("name", NAMES)
def test_reference_gets_full_marks(course: Course, name: str, which: str):
    path = course.reference_module(name)
    result = grade_assignment(
        course.assignment(name), LocalStudent(path), import_module_from(path), course.spec.seed, which
    )  # type: ignore[arg-type]
    failed = {t.name: t.feedback.render() for t in result.tests if t.status != "passed" and t.feedback}
    assert not failed
    assert result.tests, f"{name} has no {which} tests"
    assert {t.task for t in result.tests} == {t.id for t in course.assignment(name).spec.tasks}, "a task has no test"
    assert result.score == pytest.approx(result.max_score)


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("name", NAMES)
def test_starter_fails_every_test(course: Course, name: str, which: str, tmp_path: Path):
    reference = course.reference_module(name)
    starter = write_starter(reference, tmp_path)
    result = grade_assignment(
        course.assignment(name), LocalStudent(starter), import_module_from(reference), course.spec.seed, which
    )  # type: ignore[arg-type]
    passed = [t.name for t in result.tests if t.status == "passed"]
    assert not passed
    assert result.score == 0
    assert all(t.feedback and t.feedback.kind in ("not_implemented", "value", "type", "missing") for t in result.tests)
