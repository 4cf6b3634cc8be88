"""A student's rnn_forward that multiplies the state by W_hh as it is: the recurrent weights are square, so it runs."""
import math

import torch


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    pre = torch.einsum("bd,hd->bh", x, W_ih) + torch.matmul(h_prev, W_hh) + b_ih + b_hh
    return torch.tanh(pre)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    states = []
    for x_t in x:
        states.append(rnn_cell(x_t, states[-1] if states else h0, W_ih, W_hh, b_ih, b_hh))
    return torch.stack(states), states[-1]


def linear_readout(h, W_hy, b_y):
    return h @ W_hy.T + b_y


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    hs, h = [], h0
    for x in xs:
        h = math.tanh(theta_xh * x + theta_hh * h + b_h)
        hs.append(h)
    return theta_hy * h + b_y, hs
