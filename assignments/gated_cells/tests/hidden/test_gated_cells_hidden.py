"""Graded tests of gated_cells: the student's GRU and LSTM against the reference, on random inputs."""

import pytest
import torch

DTYPES = [pytest.param(torch.float64, id="float64"), pytest.param(torch.float32, id="float32")]
# (B, D, H): a single sequence, a batch, and the smallest cell; D != H throughout
CELL_SHAPES = [(1, 3, 5), (4, 7, 2), (2, 1, 3)]
# (T, B, D, H): one step of one sequence, and a long sequence of a batch
SEQUENCE_SHAPES = [(1, 1, 4, 3), (30, 3, 2, 5)]


def weights(rng, G, D, H, dtype):
    """W_ih (G*H, D), W_hh (G*H, H), b_ih (G*H,), b_hh (G*H,), at the scale 1/sqrt(H) of PyTorch's init."""
    s = 1 / H**0.5
    return [
        s * torch.randn(*shape, generator=rng, dtype=dtype) for shape in [(G * H, D), (G * H, H), (G * H,), (G * H,)]
    ]


def randn(rng, *shape, dtype):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def dyadic(rng, *shape, dtype, scale):
    """N(0, scale^2) rounded to a multiple of 1/8: the products and sums of such numbers that a step computes are
    exact in float32 as in float64, so every order of summation gives the same pre-activations."""
    return torch.round(8 * scale * torch.randn(*shape, generator=rng, dtype=dtype)) / 8


def saturating_weights(rng, G, D, H, dtype):
    """Weights under which x W_ih^T is of order 300 for inputs x of order 10 (dyadic, scale 10), so every gate
    saturates for most entries (|pre-activation| >= 50); b_ih pushes unit 0 of every gate to about +2000 and unit 1
    to about -2000, beyond where e^z overflows in float64 (z > 709)."""
    W_ih, W_hh = dyadic(rng, G * H, D, dtype=dtype, scale=30 * D**-0.5), dyadic(rng, G * H, H, dtype=dtype, scale=1.0)
    b_ih, b_hh = dyadic(rng, G * H, dtype=dtype, scale=0.5), dyadic(rng, G * H, dtype=dtype, scale=0.5)
    b_ih.view(G, H)[:, :2] = torch.tensor([2000.0, -2000.0])
    return [W_ih, W_hh, b_ih, b_hh]


@pytest.mark.task("gru_cell")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "D", "H"), CELL_SHAPES)
def test_gru_cell(grade, rng, B, D, H, dtype):
    x, h_prev = randn(rng, B, D, dtype=dtype), randn(rng, B, H, dtype=dtype)
    grade.compare("gru_cell", x, h_prev, *weights(rng, 3, D, H, dtype))


@pytest.mark.task("gru_cell")
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_cell_saturated_gates(grade, rng, dtype):
    """Large inputs and weights drive every gate to 0 or 1 and the candidate to -1 or 1: no NaN, no overflow."""
    B, D, H = 3, 6, 4
    x, h_prev = dyadic(rng, B, D, dtype=dtype, scale=10.0), dyadic(rng, B, H, dtype=dtype, scale=1.0)
    grade.compare("gru_cell", x, h_prev, *saturating_weights(rng, 3, D, H, dtype))


@pytest.mark.task("gru_cell")
def test_gru_cell_leaves_its_arguments_unchanged(grade, rng):
    B, D, H = 2, 3, 4
    x, h_prev = randn(rng, B, D, dtype=torch.float64), randn(rng, B, H, dtype=torch.float64)
    grade.check_unchanged("gru_cell", x, h_prev, *weights(rng, 3, D, H, torch.float64))


@pytest.mark.task("lstm_cell")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "D", "H"), CELL_SHAPES)
def test_lstm_cell(grade, rng, B, D, H, dtype):
    x, h_prev, c_prev = randn(rng, B, D, dtype=dtype), randn(rng, B, H, dtype=dtype), randn(rng, B, H, dtype=dtype)
    grade.compare("lstm_cell", x, h_prev, c_prev, *weights(rng, 4, D, H, dtype))


@pytest.mark.task("lstm_cell")
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_saturated_gates(grade, rng, dtype):
    """Large inputs, weights and cell state: gates at 0 or 1, tanh(c) at -1 or 1, no NaN, no overflow."""
    B, D, H = 3, 6, 4
    x, h_prev = dyadic(rng, B, D, dtype=dtype, scale=10.0), dyadic(rng, B, H, dtype=dtype, scale=1.0)
    c_prev = dyadic(rng, B, H, dtype=dtype, scale=100.0)
    grade.compare("lstm_cell", x, h_prev, c_prev, *saturating_weights(rng, 4, D, H, dtype))


@pytest.mark.task("lstm_cell")
def test_lstm_cell_leaves_its_arguments_unchanged(grade, rng):
    B, D, H = 2, 3, 4
    x, h_prev, c_prev = (randn(rng, B, n, dtype=torch.float64) for n in (D, H, H))
    grade.check_unchanged("lstm_cell", x, h_prev, c_prev, *weights(rng, 4, D, H, torch.float64))


@pytest.mark.task("gru_forward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "D", "H"), SEQUENCE_SHAPES)
def test_gru_forward(grade, rng, T, B, D, H, dtype):
    x, h0 = randn(rng, T, B, D, dtype=dtype), randn(rng, B, H, dtype=dtype)
    grade.compare("gru_forward", x, h0, *weights(rng, 3, D, H, dtype))


@pytest.mark.task("gru_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_forward_saturated_gates(grade, rng, dtype):
    T, B, D, H = 6, 2, 3, 4
    x, h0 = dyadic(rng, T, B, D, dtype=dtype, scale=10.0), dyadic(rng, B, H, dtype=dtype, scale=1.0)
    grade.compare("gru_forward", x, h0, *saturating_weights(rng, 3, D, H, dtype))


@pytest.mark.task("gru_forward")
def test_gru_forward_leaves_its_arguments_unchanged(grade, rng):
    T, B, D, H = 4, 2, 3, 5
    x, h0 = randn(rng, T, B, D, dtype=torch.float64), randn(rng, B, H, dtype=torch.float64)
    grade.check_unchanged("gru_forward", x, h0, *weights(rng, 3, D, H, torch.float64))


@pytest.mark.task("lstm_forward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "D", "H"), SEQUENCE_SHAPES)
def test_lstm_forward(grade, rng, T, B, D, H, dtype):
    x, h0, c0 = randn(rng, T, B, D, dtype=dtype), randn(rng, B, H, dtype=dtype), randn(rng, B, H, dtype=dtype)
    grade.compare("lstm_forward", x, h0, c0, *weights(rng, 4, D, H, dtype))


@pytest.mark.task("lstm_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_forward_saturated_gates(grade, rng, dtype):
    T, B, D, H = 6, 2, 3, 4
    x, h0 = dyadic(rng, T, B, D, dtype=dtype, scale=10.0), dyadic(rng, B, H, dtype=dtype, scale=1.0)
    c0 = dyadic(rng, B, H, dtype=dtype, scale=100.0)
    grade.compare("lstm_forward", x, h0, c0, *saturating_weights(rng, 4, D, H, dtype))


@pytest.mark.task("lstm_forward")
def test_lstm_forward_leaves_its_arguments_unchanged(grade, rng):
    T, B, D, H = 4, 2, 3, 5
    x = randn(rng, T, B, D, dtype=torch.float64)
    h0, c0 = randn(rng, B, H, dtype=torch.float64), randn(rng, B, H, dtype=torch.float64)
    grade.check_unchanged("lstm_forward", x, h0, c0, *weights(rng, 4, D, H, torch.float64))
