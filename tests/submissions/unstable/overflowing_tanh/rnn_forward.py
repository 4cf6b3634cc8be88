"""Right but for one thing: tanh is written as (e^2z - 1) / (e^2z + 1), which is inf / inf = NaN once e^2z
overflows (z above 44 in float32, above 355 in float64; math.exp raises OverflowError there)."""
import math

import torch


def tanh(z):
    e = torch.exp(2 * z)
    return (e - 1) / (e + 1)


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    states = []
    h = h0
    for t in range(x.shape[0]):
        h = rnn_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return torch.stack(states), h


def linear_readout(h, W_hy, b_y):
    return h @ W_hy.T + b_y


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    hs = []
    h = h0
    for x in xs:
        e = math.exp(2 * (theta_xh * x + theta_hh * h + b_h))
        h = (e - 1) / (e + 1)
        hs.append(h)
    return theta_hy * h + b_y, hs
