"""GRU and LSTM cells, and their forward passes over a sequence.

GRU, the rows of W_ih, W_hh, b_ih, b_hh stacked in three blocks r | z | n:

    r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)             (1)  reset gate
    z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)             (2)  update gate
    n_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))        (3)  candidate
    h_t = z_t * h_{t-1} + (1 - z_t) * n_t                                (4)

LSTM, the rows stacked in four blocks i | f | g | o:

    i_t = sigmoid(x_t W_ii^T + b_ii + h_{t-1} W_hi^T + b_hi)             (5)  input gate
    f_t = sigmoid(x_t W_if^T + b_if + h_{t-1} W_hf^T + b_hf)             (6)  forget gate
    g_t = tanh(x_t W_ig^T + b_ig + h_{t-1} W_hg^T + b_hg)                (7)  cell candidate
    o_t = sigmoid(x_t W_io^T + b_io + h_{t-1} W_ho^T + b_ho)             (8)  output gate
    c_t = f_t * c_{t-1} + i_t * g_t                                      (9)
    h_t = o_t * tanh(c_t)                                                (10)

Sequences are time-major: x is (T, B, D). Weights follow PyTorch's layout (G = 3 for the GRU, 4 for the
LSTM): W_ih (G*H, D), W_hh (G*H, H), b_ih (G*H,), b_hh (G*H,); block k of W_ih is rows k*H .. (k+1)*H - 1.
Write the recurrences yourself: torch.nn.GRU*, torch.nn.LSTM* and the ops behind them are not allowed.
"""

import torch
from torch import Tensor


def gru_cell(x: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step, equations (1)-(4).

    x (B, D), h_prev (B, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,) -> h (B, H)
    """
    ### BEGIN SOLUTION
    W_ir, W_iz, W_in = W_ih.chunk(3)  # each (H, D)
    W_hr, W_hz, W_hn = W_hh.chunk(3)  # each (H, H)
    b_ir, b_iz, b_in = b_ih.chunk(3)  # each (H,)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)  # (B, H)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))
    h = z * h_prev + (1 - z) * n
    return h
    ### END SOLUTION


def lstm_cell(
    x: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM step, equations (5)-(10).

    x (B, D), h_prev (B, H), c_prev (B, H), W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,)
    -> h (B, H), c (B, H)
    """
    ### BEGIN SOLUTION
    W_ii, W_if, W_ig, W_io = W_ih.chunk(4)  # each (H, D)
    W_hi, W_hf, W_hg, W_ho = W_hh.chunk(4)  # each (H, H)
    b_ii, b_if, b_ig, b_io = b_ih.chunk(4)  # each (H,)
    b_hi, b_hf, b_hg, b_ho = b_hh.chunk(4)
    i = torch.sigmoid(x @ W_ii.T + b_ii + h_prev @ W_hi.T + b_hi)  # (B, H)
    f = torch.sigmoid(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)
    g = torch.tanh(x @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)
    o = torch.sigmoid(x @ W_io.T + b_io + h_prev @ W_ho.T + b_ho)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c
    ### END SOLUTION


def gru_forward(x: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """The GRU cell over a whole sequence, starting from h0.

    x (T, B, D), h0 (B, H) -> hs (T, B, H) holding h_1 .. h_T, h_last (B, H) == hs[-1]
    """
    ### BEGIN SOLUTION
    h = h0
    hs = []
    for x_t in x:  # x_t (B, D)
        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), h
    ### END SOLUTION


def lstm_forward(
    x: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The LSTM cell over a whole sequence, starting from (h0, c0).

    x (T, B, D), h0 (B, H), c0 (B, H)
    -> hs (T, B, H) holding h_1 .. h_T, and the pair (h_last, c_last), each (B, H), with h_last == hs[-1]
    """
    ### BEGIN SOLUTION
    h, c = h0, c0
    hs = []
    for x_t in x:  # x_t (B, D)
        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), (h, c)
    ### END SOLUTION
