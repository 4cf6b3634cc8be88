"""Every attempt draws its own hidden inputs (:func:`grader.spec.attempt_seed`): honest code passes on any of them,
an attempt is reproduced from its seed, and the course's secret must be strong."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from grader.runner import grade_assignment
from grader.spec import Course, CourseSpec, attempt_seed, new_secret
from grader.student import LocalStudent, import_module_from

SUBMISSIONS = ROOT / "tests" / "submissions"
HONEST = sorted([*SUBMISSIONS.glob("alternative/*.py"), *SUBMISSIONS.glob("stable/*.py")])
"""Correct code written otherwise: other formulas, other orders of summation, other stable exponentials."""
ATTEMPTS = 12
TRAINED_ATTEMPTS = 3
"""For an assignment that trains a model (seconds an attempt): its quality test's spread over seeds is measured by
grader calibrate over 20 trainings of the reference, so fewer attempts here."""


@pytest.mark.slow
@pytest.mark.parametrize("path", HONEST, ids=lambda path: f"{path.parent.name}-{path.stem}")
def test_honest_code_written_otherwise_passes_on_any_attempt(course: Course, path: Path):
    """Honest solutions earn full marks on the inputs of many attempts: random hidden inputs never fail honest
    code (a float32 softmax via logsumexp once failed a third of them)."""
    name = path.stem
    assignment = course.assignment(name)
    reference = import_module_from(course.reference_module(name))
    student = LocalStudent(path)
    for _ in range(TRAINED_ATTEMPTS if assignment.spec.quality else ATTEMPTS):
        seed = attempt_seed(course.spec.seed or "")
        result = grade_assignment(assignment, student, reference, seed, "hidden")
        failed = {t.name: t.feedback.render() for t in result.tests if t.status != "passed" and t.feedback}
        assert not failed, f"attempt {seed}: {failed}"


def test_attempts_differ_and_each_is_reproduced_from_its_seed(course: Course):
    assignment = course.assignment("taxonomy")
    reference = import_module_from(course.reference_module("taxonomy"))
    student = LocalStudent(ROOT / "tests" / "submissions" / "mistakes" / "many_to_many_mean_over_time" / "taxonomy.py")

    def feedback(seed: str) -> list[str]:
        result = grade_assignment(assignment, student, reference, seed, "hidden")
        return [t.feedback.render() for t in result.tests if t.feedback]

    first, second = attempt_seed(course.spec.seed or ""), attempt_seed(course.spec.seed or "")
    assert first != second
    assert feedback(first) == feedback(first), "the same attempt seed: the same inputs, the same feedback"
    assert feedback(first) != feedback(second), "another attempt: other inputs"


def test_an_attempt_seed_tells_nothing_of_the_secret_and_needs_a_nonce():
    secret = new_secret()
    assert attempt_seed(secret, "n") == attempt_seed(secret, "n") != attempt_seed(secret, "m")
    assert secret not in attempt_seed(secret, "n") and len(attempt_seed(secret)) == 32


@pytest.mark.parametrize("seed", [730921846, "730921846", "00000000000000000000000000000001", "ab" * 8, "XYZ" * 11])
def test_a_weak_secret_is_refused_with_the_command_that_makes_one(seed: object):
    with pytest.raises(ValueError, match="grader new-seed"):
        CourseSpec(title="t", seed=seed)  # type: ignore[arg-type]


def test_new_secrets_are_accepted():
    assert all(CourseSpec(title="t", seed=new_secret()).seed for _ in range(20))
