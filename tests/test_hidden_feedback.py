"""What a failed hidden test shows: never a passing answer (expected values rounded, or left out, as the course says),
never the case seed; a public test shows everything."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest
from pydantic import ValidationError

from grader.diagnosis import diagnoser
from grader.feedback import Feedback, HiddenValues
from grader.results import AssignmentResult
from grader.runner import grade_assignment
from grader.spec import Assignment, Course, CourseSpec
from grader.student import LocalStudent, import_module_from

FLIPPED = Path(__file__).resolve().parent / "submissions" / "mistakes" / "gru_update_flipped" / "gated_cells.py"
VALUE = Feedback(
    kind="value",
    message="'h' has 5 of 5 values wrong",
    got="-0.63522426",
    expected="0.073840284",
    expected_rounded="0.0738",
    worst_index=[0, 2],
    max_abs_error=0.70906,
    max_rel_error=9.6028,
    inputs="x (1, 3) float64",
    case_seed=23498368690915899,
)


def test_rounded_shows_fewer_digits_and_no_seed():
    shown = VALUE.for_hidden_test("rounded")
    assert (shown.expected, shown.case_seed, shown.max_abs_error, shown.max_rel_error) == ("0.0738", None, 0.7, 10.0)
    assert shown.render().splitlines()[1:4] == [
        "worst element at index (0, 2): got -0.63522426, expected 0.0738",
        "largest absolute error 0.7, largest relative error 10",
        "inputs: x (1, 3) float64",
    ]
    assert "expected_rounded" not in shown.model_dump_json() and "0.073840284" not in shown.model_dump_json()


def test_none_leaves_the_expected_value_out_and_full_keeps_it():
    assert VALUE.for_hidden_test("none").render().splitlines()[1] == "worst element at index (0, 2): got -0.63522426"
    full = VALUE.for_hidden_test("full")
    assert full.expected == "0.073840284" and full.max_abs_error == VALUE.max_abs_error and full.case_seed is None
    assert "(case seed 23498368690915899)" in VALUE.render(), "a public test's feedback keeps its seed"


@pytest.mark.parametrize("values", ["rounded", "none", "full"])
def test_the_contracts_types_and_shapes_are_always_shown(values: HiddenValues):
    shape = Feedback(kind="shape", message="'h' has the wrong shape", got="(3, 4)", expected="(3, 5)")
    assert shape.for_hidden_test(values).expected == "(3, 5)"


def test_the_course_setting_defaults_to_rounded_and_is_checked():
    assert CourseSpec(title="c").hidden_values == "rounded"
    assert CourseSpec.model_validate({"title": "c", "hidden_values": "none"}).hidden_values == "none"
    with pytest.raises(ValidationError):
        CourseSpec.model_validate({"title": "c", "hidden_values": "partial"})


def grade(course: Course, assignment: Assignment, which: Literal["public", "hidden"]) -> AssignmentResult:
    reference = course.reference_module("gated_cells")
    return grade_assignment(
        assignment,
        LocalStudent(FLIPPED),
        import_module_from(reference),
        course.spec.seed_for(which, course.assignments_dir / "course.toml"),
        which,
        diagnoser=diagnoser(assignment, reference),
    )


def wrong_values(result: AssignmentResult) -> list[Feedback]:
    return [t.feedback for t in result.tests if t.feedback and t.feedback.kind == "value" and t.feedback.worst_index]


def test_a_hidden_test_shows_what_the_course_says_and_a_public_one_everything(course: Course):
    folder = course.assignment("gated_cells").folder
    hidden = wrong_values(grade(course, course.assignment("gated_cells"), "hidden"))
    assert hidden and all(f.case_seed is None and "case seed" not in f.render() for f in hidden)
    assert all(f.expected and len(Decimal(f.expected).normalize().as_tuple().digits) <= 3 for f in hidden)
    none = wrong_values(grade(course, Assignment(folder, hidden_values="none"), "hidden"))
    assert none and all(f.expected is None for f in none)
    public = wrong_values(grade(course, course.assignment("gated_cells"), "public"))
    assert public and all(f.case_seed is not None and "case seed" in f.render() for f in public)
    assert any(f.expected and len(Decimal(f.expected).normalize().as_tuple().digits) > 3 for f in public)
