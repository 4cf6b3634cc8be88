import pytest
import torch

from grader.checks import SIX_DECIMALS


@pytest.mark.task("cell")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cell(grade, rng, dtype):
    B, D, H = 3, 4, 5

    def r(*s):
        return torch.randn(*s, generator=rng, dtype=dtype)

    grade.compare("rnn_cell", r(B, D), r(B, H), r(H, D), r(H, H), r(H), r(H))


@pytest.mark.task("scalar")
def test_scalar(grade):
    grade.expect(
        "scalar_rnn",
        [0.7, 0.9, 1.1],
        0.2,
        0.3,
        1.0,
        -0.1,
        0.0,
        expected=(0.146460, [0.039979, 0.091735, 0.146460]),
        tolerance=SIX_DECIMALS,
    )
