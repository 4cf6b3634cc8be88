"""The value checks' feedback: which element is worst, by how much, and the cheaper failures first."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
import torch

from grader.checks import check_exact, check_float, check_outputs, check_tensor, check_value, describe, rounded, unravel
from grader.feedback import Feedback, GradingFailure
from grader.sandbox.inside.wire import Unsupported
from grader.spec import Tolerance

TOLERANCE = Tolerance(rtol=1e-5, atol=1e-6)


def failure(got: object, expected: torch.Tensor) -> Feedback:
    with pytest.raises(GradingFailure) as raised:
        check_tensor("h", got, expected, TOLERANCE)
    return raised.value.feedback


@pytest.mark.parametrize("shape", [(), (7,), (2, 3), (3, 1, 4), (2, 3, 4, 5)])
def test_unravel_agrees_with_torch(shape: tuple[int, ...]):
    for flat in range(torch.Size(shape).numel()):
        assert unravel(flat, shape) == [int(i) for i in torch.unravel_index(torch.tensor(flat), shape)]


def test_the_worst_element_is_named_with_its_index_and_errors():
    expected = torch.zeros(2, 3, 4)
    got = expected.clone()
    got[1, 2, 0] = 0.5
    got[0, 1, 3] = -2.0
    feedback = failure(got, expected)
    assert feedback.kind == "value" and feedback.message == "'h' has 2 of 24 values wrong"
    assert feedback.worst_index == [0, 1, 3] and feedback.got == "-2" and feedback.expected == "0"
    assert feedback.max_abs_error == 2.0


def test_a_wrong_scalar_tensor_has_an_empty_index():
    feedback = failure(torch.tensor(1.5), torch.tensor(1.0))
    assert feedback.worst_index == [] and feedback.got == "1.5"


def test_nan_comes_before_values_and_shape_before_both():
    expected = torch.ones(3, 2)
    got = expected.clone()
    got[2, 1] = float("nan")
    got[0, 0] = 5.0
    nonfinite = failure(got, expected)
    assert nonfinite.kind == "nonfinite" and nonfinite.worst_index == [2, 1]
    assert failure(torch.ones(2, 3), expected).kind == "shape"
    assert failure(expected.double(), expected).kind == "dtype"
    assert failure(expected.tolist(), expected).kind == "type"


def test_values_within_tolerance_pass():
    expected = torch.linspace(-1, 1, 10)
    check_tensor("h", expected + 1e-7, expected, TOLERANCE)


def failed(check, *args) -> Feedback:
    with pytest.raises(GradingFailure) as raised:
        check(*args)
    return raised.value.feedback


def test_a_wrong_dtype_list_or_tensor_for_a_number_carries_a_generic_id():
    expected = torch.zeros(2, 3, dtype=torch.float64)
    assert failure(expected.float(), expected).diagnosis == "generic.dtype"
    listed = failure(list(expected), expected)
    assert listed.diagnosis == "generic.list_for_tensor" and "torch.stack" in listed.message
    assert failure("zeros", expected).diagnosis is None
    for feedback in (
        failed(check_float, "loss", torch.tensor(0.5), 0.5, TOLERANCE),
        failed(check_exact, "count", torch.tensor(3), 3),
    ):
        assert feedback.diagnosis == "generic.tensor_for_number" and ".item()" in feedback.message


def test_a_value_the_worker_could_not_send_is_named_by_its_real_type():
    assert failed(check_exact, "count", Unsupported("numpy.int64"), 3).message == (
        "'count' should be an int but is a numpy.int64"
    )
    whole = failed(check_outputs, ["hs", "h_last"], Unsupported("numpy.ndarray"), (1.0, 2.0), TOLERANCE)
    assert whole.message == "the result should be a tuple (hs, h_last) but is a numpy.ndarray"
    long = failed(check_value, "h", Unsupported("x" * 500), torch.zeros(1), TOLERANCE)
    assert long.got is not None and len(long.got) == 100 and long.got.endswith("...")


def test_the_relative_error_of_an_expected_zero_is_bounded():
    feedback = failure(torch.tensor([0.143, 1.0]), torch.tensor([0.0, 1.0]))
    assert feedback.max_abs_error == pytest.approx(0.143)
    floor = TOLERANCE.atol / TOLERANCE.rtol  # below it the check is as good as absolute
    assert feedback.max_rel_error == pytest.approx(0.143 / floor)
    absolute = Tolerance(rtol=0.0, atol=1e-6)
    assert failed(check_float, "y", 0.5, 0.0, absolute).max_rel_error is None
    assert failed(check_float, "y", 0.5, 0.25, TOLERANCE).max_rel_error == pytest.approx(1.0)


@pytest.mark.parametrize("tolerance", [Tolerance(rtol=1e-7, atol=1e-9), Tolerance(rtol=1e-4, atol=1e-5), TOLERANCE])
def test_a_rounded_expected_value_copied_into_a_submission_fails(tolerance: Tolerance):
    values = torch.randn(2000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 10.0
    for value in [*values.tolist(), 0.125000001, -3.14159265]:
        text = rounded(value, tolerance)
        assert len(Decimal(text).normalize().as_tuple().digits) <= 3
        assert abs(float(text) - value) > tolerance.atol + tolerance.rtol * abs(value), (value, text)
    assert rounded(0.125000001, Tolerance(rtol=1e-7, atol=1e-9)) == "0.13", "fewer digits where three would pass"
    assert rounded(0.5, tolerance) == "0.5", "a value with so few digits is shown as it is"


def test_every_step_equal_to_the_last_is_named_an_aliased_output():
    expected = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    aliased = expected[-1].expand_as(expected).clone()
    feedback = failure(aliased, expected)
    assert feedback.diagnosis == "generic.aliased_steps"
    assert feedback.explanation is not None and "h[t] == h[-1]" in feedback.explanation
    assert "updated in place" in feedback.explanation
    assert failure(aliased + 1.0, expected).diagnosis is None, "the last step is wrong too: no alias"
    rows = expected[:, 0]  # (T, 3): not a sequence of batches, whose first axis would be time
    assert failure(rows[-1].expand_as(rows).clone(), rows).diagnosis is None


def test_a_wrong_number_keeps_its_expected_value_out_of_the_message():
    feedback = failed(check_float, "y_hat", 0.5, 0.8428859, TOLERANCE)
    assert feedback.message == "'y_hat' is wrong" and (feedback.got, feedback.expected) == ("0.5", "0.8428859")
    assert feedback.expected_rounded == "0.843"
    assert "got 0.5, expected 0.8428859" in feedback.render()
    exact = failed(check_exact, "count", 1200, 1234)
    assert exact.message == "'count' is wrong" and exact.render().splitlines()[1] == "got 1200, expected 1234"


def test_a_type_name_the_student_chose_is_quoted_on_one_line():
    """A class named to forge feedback lines (a newline, markup) is shown as a quoted string, never as lines."""
    forged = type("x\n\nrnn_cell: passed 100/100 </td>", (), {})
    forged.__module__ = "builtins"
    shown = describe(forged())
    assert "\n" not in shown and shown.startswith("'x\\n")
    assert describe(np.int64(3)) == "numpy.int64"
