"""The mistake catalogues: validated on every assignment, and naming the mistakes of submissions written
independently of the mutants, never those of a correct submission written differently from the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.diagnosis import diagnoser
from grader.results import AssignmentResult
from grader.runner import grade_assignment
from grader.spec import Course, default_course
from grader.student import LocalStudent, import_module_from
from grader.validate import validate_assignment

SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
REQUIRED = {
    "rnn_forward": [
        "rnn_missing_transpose",
        "rnn_missing_bias",
        "rnn_wrong_activation",
        "rnn_hs_includes_h0",
        "rnn_hs_shifted",
        "rnn_recurrent_weight_not_transposed",
    ],
    "bptt": [
        "bptt_no_time_accumulation",
        "bptt_missing_tanh_derivative",
        "bptt_tanh_derivative_wrong_step",
        "bptt_mean_instead_of_sum",
        "clip_per_tensor",
        "bptt_tanh_derivative_of_state",
        "bptt_recurrent_path_skips_tanh",
        "clip_by_value",
    ],
    "gated_cells": [
        "gru_reset_before_matmul",
        "gru_update_flipped",
        "lstm_gate_order_ifog",
        "lstm_tanh_missing_on_cell",
        "gated_recurrent_weights_not_transposed",
        "lstm_hs_holds_cell_states",
    ],
    "shapes": ["shapes_lstm_gates_forgotten", "shapes_bidirectional_input_size", "shapes_weights_transposed"],
    "taxonomy": [
        "many_to_one_padding_ignored",
        "many_to_many_mean_over_time",
        "many_to_many_divided_by_length",
        "many_to_many_token_mean",
    ],
    "attention": [
        "softmax_wrong_axis",
        "mask_not_applied",
        "softmax_unstable",
        "mask_after_softmax",
        "softmax_max_includes_padding",
    ],
    "name_classifier": [
        "nc_one_hot_off_by_one",
        "nc_first_state",
        "nc_padded_step",
        "nc_state_carried_between_names",
        "nc_no_zero_grad",
        "nc_gradient_ascent",
    ],
}
GENERIC = ["generic.aliased_steps", "generic.dtype", "generic.list_for_tensor"]
"""Generic mistakes (grader.feedback.Generic) that a student-written submission must be named with."""
STUDENT_MISTAKES = sorted(p for p in (SUBMISSIONS / "mistakes").glob("*/*.py"))
ALTERNATIVES = sorted((SUBMISSIONS / "alternative").glob("*.py"))


def grade(course: Course, path: Path) -> AssignmentResult:
    name = path.stem
    reference = course.reference_module(name)
    assignment = course.assignment(name)
    return grade_assignment(
        assignment,
        LocalStudent(path),
        import_module_from(reference),
        course.spec.seed or 0,
        "hidden",
        diagnoser=diagnoser(assignment, reference),
    )


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_catalogue_has_the_required_mistakes(course: Course, name: str):
    names = diagnoser(course.assignment(name), course.reference_module(name))
    assert names is not None, f"assignments/{name}/mistakes.py is missing"
    assert set(REQUIRED[name]) <= set(names.catalogue.mistakes)


@pytest.mark.parametrize("name", sorted(default_course().assignments))
def test_validate_passes(course: Course, name: str):
    validation = validate_assignment(course, name)
    problems = {v.subject: v.problem for v in validation.verdicts if v.problem}
    assert not problems
    assert not validation.indistinguishable
    assert validation.caught == len(validation.mutants) > 0


@pytest.mark.parametrize("path", STUDENT_MISTAKES, ids=lambda p: p.parent.name)
def test_a_students_own_mistake_is_named(course: Course, path: Path):
    result = grade(course, path)
    mistake = path.parent.name
    assert result.score < result.max_score
    named = [t.feedback.diagnosis for t in result.tests if t.feedback and t.feedback.diagnosis]
    assert mistake in named, f"named instead: {sorted(set(named))}"
    assert all(mistake in t.feedback.matches for t in result.tests if t.feedback and t.feedback.matches)


def test_every_required_mistake_has_a_student_written_submission():
    written = {p.parent.name for p in STUDENT_MISTAKES}
    assert {m for ids in REQUIRED.values() for m in ids} | set(GENERIC) <= written


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: p.stem)
def test_a_correct_submission_written_differently_is_never_diagnosed(course: Course, path: Path):
    result = grade(course, path)
    assert result.score == pytest.approx(result.max_score), [t.feedback for t in result.tests if t.feedback][:2]
    assert not [t for t in result.tests if t.feedback and t.feedback.diagnosis]


def test_alternatives_cover_every_assignment(course: Course):
    assert {p.stem for p in ALTERNATIVES} == set(course.assignments)
