"""The classic mistakes of the Elman forward pass, each a small patch of the reference."""

import torch

from grader.mistakes import Catalogue

catalogue = Catalogue()

catalogue.add(
    "rnn_missing_bias",
    mistake="the biases b_ih and b_hh are left out",
    right="the lecture has h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih.T + h_prev @ W_hh.T"},
)


@catalogue.replaces(
    "rnn_hs_includes_h0",
    mistake="hs starts with h0, so it holds h_0..h_T",
    right="hs holds h_1..h_T only, T states of shape (B, H), and h_last is hs[-1]",
)
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = [h0]
    for x_t in x:
        hs.append(rnn_cell(x_t, hs[-1], W_ih, W_hh, b_ih, b_hh))
    return torch.stack(hs), hs[-1]
