"""A typical student submission: hs keeps h0 in front (a shape error)."""
import math

import torch


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    states = [h0]
    for x_t in x:
        states.append(rnn_cell(x_t, states[-1], W_ih, W_hh, b_ih, b_hh))
    return torch.stack(states), states[-1]


def linear_readout(h, W_hy, b_y):
    return h @ W_hy.T + b_y


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    h, hs = h0, []
    for x in xs:
        h = math.tanh(theta_xh * x + theta_hh * h + b_h)
        hs.append(h)
    return theta_hy * h + b_y, hs
