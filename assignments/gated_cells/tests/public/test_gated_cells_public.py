"""Tests you can run yourself: your GRU and LSTM against PyTorch's own, with the same weights.

torch.nn.GRUCell, LSTMCell, GRU and LSTM compute exactly the handout's equations (1)-(10); here they
only produce the expected values. Your code must not use them.
"""

import pytest
import torch

DTYPES = [pytest.param(torch.float64, id="float64"), pytest.param(torch.float32, id="float32")]


def weights(rng, G, D, H, dtype):
    """W_ih (G*H, D), W_hh (G*H, H), b_ih (G*H,), b_hh (G*H,)."""
    return [
        torch.randn(*shape, generator=rng, dtype=dtype) / H**0.5
        for shape in [(G * H, D), (G * H, H), (G * H,), (G * H,)]
    ]


def torch_module(kind, D, H, W_ih, W_hh, b_ih, b_hh):
    """PyTorch's GRUCell / LSTMCell / GRU / LSTM holding the given weights."""
    module = getattr(torch.nn, kind)(D, H, dtype=W_ih.dtype)
    suffix = "_l0" if kind in ("GRU", "LSTM") else ""
    with torch.no_grad():
        for name, value in zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], [W_ih, W_hh, b_ih, b_hh], strict=True):
            getattr(module, name + suffix).copy_(value)
    return module


@pytest.mark.task("gru_cell")
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_cell_matches_torch(grade, rng, dtype):
    B, D, H = 3, 4, 5
    x, h_prev = torch.randn(B, D, generator=rng, dtype=dtype), torch.randn(B, H, generator=rng, dtype=dtype)
    W = weights(rng, 3, D, H, dtype)
    with torch.no_grad():
        h = torch_module("GRUCell", D, H, *W)(x, h_prev)
    grade.expect("gru_cell", x, h_prev, *W, expected=h)


@pytest.mark.task("lstm_cell")
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_matches_torch(grade, rng, dtype):
    B, D, H = 3, 4, 5
    x = torch.randn(B, D, generator=rng, dtype=dtype)
    h_prev, c_prev = torch.randn(B, H, generator=rng, dtype=dtype), torch.randn(B, H, generator=rng, dtype=dtype)
    W = weights(rng, 4, D, H, dtype)
    with torch.no_grad():
        h, c = torch_module("LSTMCell", D, H, *W)(x, (h_prev, c_prev))
    grade.expect("lstm_cell", x, h_prev, c_prev, *W, expected=(h, c))


@pytest.mark.task("gru_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_forward_matches_torch(grade, rng, dtype):
    T, B, D, H = 6, 2, 3, 4
    x, h0 = torch.randn(T, B, D, generator=rng, dtype=dtype), torch.randn(B, H, generator=rng, dtype=dtype)
    W = weights(rng, 3, D, H, dtype)
    with torch.no_grad():
        hs, h_n = torch_module("GRU", D, H, *W)(x, h0.unsqueeze(0))  # h_n (1, B, H): one layer
    grade.expect("gru_forward", x, h0, *W, expected=(hs, h_n[0]))


@pytest.mark.task("lstm_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_forward_matches_torch(grade, rng, dtype):
    T, B, D, H = 6, 2, 3, 4
    x = torch.randn(T, B, D, generator=rng, dtype=dtype)
    h0, c0 = torch.randn(B, H, generator=rng, dtype=dtype), torch.randn(B, H, generator=rng, dtype=dtype)
    W = weights(rng, 4, D, H, dtype)
    with torch.no_grad():
        hs, (h_n, c_n) = torch_module("LSTM", D, H, *W)(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    grade.expect("lstm_forward", x, h0, c0, *W, expected=(hs, (h_n[0], c_n[0])))
