"""Public tests of rnn_forward: PyTorch's own RNN layers with copied weights, and the lecture's worked numbers.

Read them to see how your functions are called; the hidden tests call them the same way on more shapes.
"""

import pytest
import torch

from grader.checks import SIX_DECIMALS

DTYPES = [torch.float64, torch.float32]


def randomize(module, rng):
    """Give a torch module random weights from ``rng``; return them, detached copies, in registration order."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(0.5 * torch.randn(parameter.shape, generator=rng, dtype=parameter.dtype))
    return tuple(parameter.detach().clone() for parameter in module.parameters())


@pytest.mark.task("cell")
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_cell_matches_torch(grade, rng, dtype):
    B, D, H = 3, 4, 5
    cell = torch.nn.RNNCell(D, H, dtype=dtype)
    weights = randomize(cell, rng)  # W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,)
    x = torch.randn(B, D, generator=rng, dtype=dtype)
    h_prev = torch.randn(B, H, generator=rng, dtype=dtype)
    with torch.no_grad():
        expected = cell(x, h_prev)
    grade.expect("rnn_cell", x, h_prev, *weights, expected=expected)


@pytest.mark.task("forward")
@pytest.mark.parametrize(("T", "B"), [(1, 1), (7, 3)])
def test_rnn_forward_matches_torch(grade, rng, T, B):
    D, H = 3, 4
    rnn = torch.nn.RNN(D, H, dtype=torch.float64)
    weights = randomize(rnn, rng)  # weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0
    x = torch.randn(T, B, D, generator=rng, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=rng, dtype=torch.float64)
    with torch.no_grad():
        hs, h_n = rnn(x, h0[None])  # torch.nn.RNN wants h0 as (num_layers, B, H)
    grade.expect("rnn_forward", x, h0, *weights, expected=(hs, h_n[0]))


@pytest.mark.task("readout")
def test_linear_readout_matches_torch(grade, rng):
    T, B, H, O = 5, 2, 4, 3
    linear = torch.nn.Linear(H, O, dtype=torch.float64)
    W_hy, b_y = randomize(linear, rng)
    h = torch.randn(T, B, H, generator=rng, dtype=torch.float64)
    with torch.no_grad():
        expected = linear(h)
    grade.expect("linear_readout", h, W_hy, b_y, expected=expected)


@pytest.mark.task("scalar")
def test_scalar_rnn_handout_example(grade):
    expected = (0.146460, [0.039979, 0.091735, 0.146460])
    grade.expect("scalar_rnn", [0.7, 0.9, 1.1], 0.2, 0.3, 1.0, -0.1, 0.0, expected=expected, tolerance=SIX_DECIMALS)


@pytest.mark.task("scalar")
def test_scalar_rnn_bptt_example(grade):
    expected = (0.842886, [0.462117, 0.842886])
    grade.expect("scalar_rnn", [1.0, 2.0], 0.5, 0.5, 1.0, 0.0, 0.0, expected=expected, tolerance=SIX_DECIMALS)
