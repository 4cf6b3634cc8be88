"""Hidden tests of rnn_forward: every function against the reference, and the lecture's worked numbers."""

import pytest
import torch

from grader.checks import SIX_DECIMALS, check_value

DTYPES = [torch.float64, torch.float32]


def elman_inputs(rng, T, B, D, H, dtype):
    """x (T, B, D), h0 (B, H) and the cell's weights, scaled so that tanh is not saturated."""

    def r(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=rng, dtype=dtype)

    return r(T, B, D), r(B, H), r(H, D, scale=D**-0.5), r(H, H, scale=H**-0.5), r(H, scale=0.5), r(H, scale=0.5)


def dyadic(rng, *shape, scale, dtype):
    """N(0, scale^2) rounded to a multiple of 1/8: the products and sums of such numbers that a step computes are
    exact in float32 as in float64, so every order of summation gives the same pre-activations."""
    return torch.round(8 * scale * torch.randn(*shape, generator=rng, dtype=dtype)) / 8


def saturating_elman_inputs(rng, T, B, D, H, dtype):
    """Like elman_inputs, but x W_ih^T is of order 300, so tanh saturates for most entries (|pre-activation| >= 50),
    and b_ih pushes unit 0 to about +2000 and unit 1 to about -2000, beyond where e^z overflows in float64 (z > 709).
    """
    x, W_ih = dyadic(rng, T, B, D, scale=10.0, dtype=dtype), dyadic(rng, H, D, scale=30 * D**-0.5, dtype=dtype)
    h0, W_hh = dyadic(rng, B, H, scale=0.5, dtype=dtype), dyadic(rng, H, H, scale=H**-0.5, dtype=dtype)
    b_ih, b_hh = dyadic(rng, H, scale=0.5, dtype=dtype), dyadic(rng, H, scale=0.5, dtype=dtype)
    b_ih[:2] = torch.tensor([2000.0, -2000.0])
    return x, h0, W_ih, W_hh, b_ih, b_hh


# (B, D, H): batch 1 and > 1, D != H both ways, and D == H (where weights used untransposed give wrong
# values rather than a shape error)
CELL_SHAPES = [(1, 3, 5), (4, 6, 2), (7, 1, 8), (3, 4, 4)]


@pytest.mark.task("cell")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "D", "H"), CELL_SHAPES)
def test_rnn_cell(grade, rng, B, D, H, dtype):
    x, h_prev, W_ih, W_hh, b_ih, b_hh = elman_inputs(rng, 1, B, D, H, dtype)
    grade.compare("rnn_cell", x[0], h_prev, W_ih, W_hh, b_ih, b_hh)


@pytest.mark.task("cell")
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_cell_saturated(grade, rng, dtype):
    """tanh of pre-activations of order 300 and of +-2000: 1 or -1, never NaN (e^2z overflows from z = 44 in float32,
    355 in float64)."""
    x, *rest = saturating_elman_inputs(rng, 1, 4, 3, 5, dtype)
    grade.compare("rnn_cell", x[0], *rest)


@pytest.mark.task("cell")
def test_rnn_cell_leaves_arguments_unchanged(grade, rng):
    x, h_prev, *weights = elman_inputs(rng, 1, 3, 4, 5, torch.float64)
    grade.check_unchanged("rnn_cell", x[0], h_prev, *weights)


# (T, B, D, H): T = 1 and long T, batch 1 and > 1, D != H, and D == H
FORWARD_SHAPES = [(1, 1, 3, 4), (1, 5, 4, 2), (6, 3, 2, 5), (30, 2, 3, 4), (5, 2, 3, 3)]


@pytest.mark.task("forward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "D", "H"), FORWARD_SHAPES)
def test_rnn_forward(grade, rng, T, B, D, H, dtype):
    grade.compare("rnn_forward", *elman_inputs(rng, T, B, D, H, dtype))


@pytest.mark.task("forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_forward_saturated(grade, rng, dtype):
    grade.compare("rnn_forward", *saturating_elman_inputs(rng, 6, 3, 4, 5, dtype))


@pytest.mark.task("forward")
def test_rnn_forward_leaves_arguments_unchanged(grade, rng):
    grade.check_unchanged("rnn_forward", *elman_inputs(rng, 5, 3, 4, 2, torch.float64))


# the leading shape of h: one vector (H,), a batch (B, H), a sequence (T, B, H)
READOUT_SHAPES = [(6,), (4, 6), (5, 3, 6)]


@pytest.mark.task("readout")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", READOUT_SHAPES)
def test_linear_readout(grade, rng, shape, dtype):
    H, O = shape[-1], 3

    def r(*s):
        return torch.randn(*s, generator=rng, dtype=dtype)

    grade.compare("linear_readout", r(*shape), r(O, H), r(O))


@pytest.mark.task("readout")
def test_linear_readout_leaves_arguments_unchanged(grade, rng):
    h, W_hy, b_y = (torch.randn(*s, generator=rng, dtype=torch.float64) for s in [(4, 5), (2, 5), (2,)])
    grade.check_unchanged("linear_readout", h, W_hy, b_y)


@pytest.mark.task("scalar")
def test_scalar_rnn_handout_example(grade):
    # theta_xh 0.2, theta_hh 0.3, b_h -0.1 (the handout's first line misprints the bias as -0,3)
    expected = (0.146460, [0.039979, 0.091735, 0.146460])
    grade.expect("scalar_rnn", [0.7, 0.9, 1.1], 0.2, 0.3, 1.0, -0.1, 0.0, expected=expected, tolerance=SIX_DECIMALS)


@pytest.mark.task("scalar")
def test_scalar_rnn_bptt_example(grade):
    expected = (0.842886, [0.462117, 0.842886])
    grade.expect("scalar_rnn", [1.0, 2.0], 0.5, 0.5, 1.0, 0.0, 0.0, expected=expected, tolerance=SIX_DECIMALS)


@pytest.mark.task("scalar")
def test_scalar_rnn_after_one_sgd_step(grade):
    # the BPTT example's parameters after one SGD step with lr 0.1 and the lecture's gradients
    params = (0.5 + 0.1 * 1.494753, 0.5 + 0.1 * 0.288628, 1.0 + 0.1 * 1.818201, 0.1 * 0.870176, 0.1 * 2.157114)
    y_hat, _ = grade.compare("scalar_rnn", [1.0, 2.0], *params)
    check_value("y_hat", y_hat, 1.323751, SIX_DECIMALS)


@pytest.mark.task("scalar")
@pytest.mark.parametrize("T", [1, 4, 25])
def test_scalar_rnn_random(grade, rng, T):
    xs = torch.randn(T, generator=rng, dtype=torch.float64).tolist()
    theta_xh, theta_hh, theta_hy, b_h, b_y, h0 = (0.7 * torch.randn(6, generator=rng, dtype=torch.float64)).tolist()
    grade.compare("scalar_rnn", xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0)


def saturating_scalar_inputs(rng, T):
    """xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0 with theta_xh = 500 and xs in (-1, 1): most steps' z_t lie
    between 50 and 500 in magnitude, and z_2 beyond 400, where e^2z overflows (math.exp raises); steps 1, 4, 7, ...
    have x_t 1000 times smaller and stay unsaturated, so that the state still depends on the steps before."""
    xs = 2 * torch.rand(T, generator=rng, dtype=torch.float64) - 1
    xs[::3] *= 1e-3
    xs[1] = 0.9
    theta_hh, theta_hy, b_h, b_y, h0 = (0.7 * torch.randn(5, generator=rng, dtype=torch.float64)).tolist()
    return xs.tolist(), 500.0, theta_hh, theta_hy, b_h, b_y, h0


@pytest.mark.task("scalar")
def test_scalar_rnn_saturated(grade, rng):
    grade.compare("scalar_rnn", *saturating_scalar_inputs(rng, 8))


@pytest.mark.task("scalar")
def test_scalar_rnn_leaves_xs_unchanged(grade):
    grade.check_unchanged("scalar_rnn", [0.7, 0.9, 1.1], 0.2, 0.3, 1.0, -0.1, 0.0)
