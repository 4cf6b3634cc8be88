"""Red team, issue 11: gated_cells.py with its cells computed by torch._VF.gru_cell and torch._VF.lstm_cell.

gru_forward and lstm_forward are the reference's, over these cells. Were this route allowed, the module would
earn full marks. The code between ``# ROUTE`` and ``# END ROUTE`` is the route; the tests also grade it with
``torch.`` rewritten ``_T.`` (torch as no reading can pin it), so that only the run-time guards stand in its
way.
"""

import gc
import types

import torch
from torch import Tensor

_T = [torch][0]
"""torch, as no reading of the source can tell."""


# ROUTE
def _gru(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch._VF.gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)


def _lstm(x, h, c, W_ih, W_hh, b_ih, b_hh):
    return tuple(torch._VF.lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh))
# END ROUTE


def gru_cell(x: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    return _gru(x, h_prev, W_ih, W_hh, b_ih, b_hh)


def lstm_cell(
    x: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    h, c = _lstm(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return h, c


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
