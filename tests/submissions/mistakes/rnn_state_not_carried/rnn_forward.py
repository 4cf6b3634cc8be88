"""A student's rnn_forward in which every step starts from h0 instead of the previous state."""
import math

import torch


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(b_ih + x @ W_ih.T + b_hh + h_prev @ W_hh.T)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = torch.stack([rnn_cell(x[t], h0, W_ih, W_hh, b_ih, b_hh) for t in range(x.shape[0])])
    return hs, hs[-1]


def linear_readout(h, W_hy, b_y):
    return torch.matmul(h, W_hy.T) + b_y


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    hs = [math.tanh(theta_xh * x_t + theta_hh * h0 + b_h) for x_t in xs]
    return theta_hy * hs[-1] + b_y, hs
