"""A student's rnn_forward that updates one state tensor in place and appends it at every step: every entry of hs is
the same tensor, so hs holds h_T T times."""
import math

import torch


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    state = h0.clone()  # so that h0 itself is left alone
    hs = []
    for x_t in x:
        state.copy_(rnn_cell(x_t, state, W_ih, W_hh, b_ih, b_hh))
        hs.append(state)
    return torch.stack(hs), state


def linear_readout(h, W_hy, b_y):
    return torch.matmul(h, W_hy.transpose(0, 1)) + b_y


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    hs, h = [], h0
    for x in xs:
        h = math.tanh(theta_xh * x + theta_hh * h + b_h)
        hs.append(h)
    return theta_hy * h + b_y, hs
