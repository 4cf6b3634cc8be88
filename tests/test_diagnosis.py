"""The mistake catalogues: validated on every assignment, and naming the mistakes of submissions written
independently of the mutants, never those of a correct submission written differently from the reference."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from grader.diagnosis import diagnoser
from grader.feedback import GradingFailure
from grader.mistakes import Mistake, build_mutant, changed_functions
from grader.results import AssignmentResult
from grader.runner import grade_assignment
from grader.signatures import contract_functions, reference_parameters
from grader.spec import Course, default_course
from grader.starter import write_starter
from grader.student import LocalStudent, import_module_from
from grader.testkit import Grade
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


MUTATED = """import torch

SCALE = 2.0


def helper(x):
    return x * SCALE


def uses_helper(x):
    return helper(x) + 1


def nested(x):
    return (lambda y: helper(y))(x)


def independent(x):
    return x - 1


class Model:
    pass


def make():
    return Model()
"""


@pytest.mark.parametrize(
    ("replace", "changed"),
    [
        ({"return x * SCALE": "return x * SCALE * 3"}, {"helper", "uses_helper", "nested", "make"}),
        ({"SCALE = 2.0": "SCALE = 2"}, {"helper", "uses_helper", "nested", "make"}),  # 2 is not 2.0
        ({"return x - 1": "return x - 1.0"}, {"independent", "make"}),
        ({"    pass": "    x = 1"}, {"make"}),  # a class is never taken to be unchanged
        ({"return x - 1": "return x - 1  # moved\n\n\n"}, {"make"}),  # lines and comments are not the code
    ],
)
def test_a_mutant_changes_its_functions_and_whatever_uses_them(tmp_path: Path, replace: dict, changed: set):
    reference = tmp_path / "demo.py"
    reference.write_text(MUTATED)
    pristine = build_mutant(reference, Mistake(id="none", mistake="-", right="-"))
    mutant = build_mutant(reference, Mistake(id="m", mistake="-", right="-", replace=replace))
    assert changed_functions(mutant, pristine) == changed


def test_a_replaced_function_is_changed(tmp_path: Path):
    reference = tmp_path / "demo.py"
    reference.write_text(MUTATED)
    pristine = build_mutant(reference, Mistake(id="none", mistake="-", right="-"))

    def independent(x):
        return x + 1

    mutant = build_mutant(reference, Mistake(id="m", mistake="-", right="-", functions={"independent": independent}))
    assert changed_functions(mutant, pristine) == {"independent", "make"}


def counting(module: ModuleType, calls: list[str]) -> ModuleType:
    """``module``'s functions, each call of which is recorded in ``calls``."""
    counted = ModuleType("counted")
    for name, value in vars(module).items():
        if callable(value) and not isinstance(value, type):
            setattr(counted, name, lambda *a, _name=name, _f=value: calls.append(_name) or _f(*a))
    return counted


@pytest.mark.parametrize(("module", "runs_reference"), [("starter", False), ("mistake", True), ("right", True)])
def test_the_reference_runs_only_when_its_result_is_needed(
    course: Course, tmp_path: Path, module: str, runs_reference: bool
):
    """A starter's NotImplementedError is decided without the reference's result (nor the catalogue's)."""
    path = course.reference_module("rnn_forward")
    student = {
        "starter": write_starter(path, tmp_path),
        "mistake": SUBMISSIONS / "mistakes" / "rnn_missing_bias" / "rnn_forward.py",
        "right": path,
    }[module]
    calls: list[str] = []
    assignment = course.assignment("rnn_forward")
    parameters = reference_parameters(path, contract_functions(assignment.spec))
    grade = Grade(
        assignment.spec,
        LocalStudent(student),
        counting(import_module_from(path), calls),
        7,
        diagnoser(assignment, path),
        parameters=parameters,
    )
    shapes = ((3, 4), (3, 5), (5, 4), (5, 5), (5,), (5,))
    try:
        grade.compare("rnn_cell", *(torch.randn(shape, dtype=torch.float64) for shape in shapes))
    except GradingFailure as failure:
        assert (failure.feedback.kind == "not_implemented") == (module == "starter")
        assert (failure.feedback.diagnosis == "rnn_missing_bias") == (module == "mistake")
    else:
        assert module == "right"
    assert (calls == ["rnn_cell"]) == runs_reference
