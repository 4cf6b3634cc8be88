"""The value checks' feedback: which element is worst, by how much, and the cheaper failures first."""

from __future__ import annotations

import pytest
import torch

from grader.checks import check_tensor, unravel
from grader.feedback import Feedback, GradingFailure
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
