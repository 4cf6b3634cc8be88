"""Hidden tests of clip_grad_norm against the reference."""

import pytest
import torch

from grader.checks import Tolerance

# The contract accepts total_norm + 1e-6 and total_norm in the coefficient max_norm / (...). They differ
# by a relative 1e-6 / total_norm: every clipped case here has total_norm > 10, and float64 allows 1e-6.
TOLERANCE = {torch.float64: Tolerance(rtol=1e-6, atol=1e-9), torch.float32: None}


def gradients(rng, dtype, scale):
    """A dict like rnn_backward's gradients, every entry N(0, scale^2); its total norm is about 9 * scale."""
    shapes = {"W_ih": (5, 3), "W_hh": (5, 5), "b_ih": (5,), "b_hh": (5,), "W_hy": (2, 5), "b_y": (2,), "h0": (4, 5)}
    return {name: scale * torch.randn(shape, generator=rng, dtype=dtype) for name, shape in shapes.items()}


# (scale of the gradients, max_norm, dtype): clipped, clipped hard, and not clipped at all
CASES = [
    (4.0, 1.0, torch.float64),
    (4.0, 1.0, torch.float32),
    (1000.0, 0.25, torch.float64),
    (1.0, 1000.0, torch.float64),
]


@pytest.mark.task("clipping")
@pytest.mark.parametrize(("scale", "max_norm", "dtype"), CASES)
def test_clip_grad_norm(grade, rng, scale, max_norm, dtype):
    grade.compare("clip_grad_norm", gradients(rng, dtype, scale), max_norm, tolerance=TOLERANCE[dtype])


@pytest.mark.task("clipping")
def test_clip_grad_norm_leaves_grads_unchanged(grade, rng):
    grade.check_unchanged("clip_grad_norm", gradients(rng, torch.float64, 4.0), 1.0, tolerance=TOLERANCE[torch.float64])
