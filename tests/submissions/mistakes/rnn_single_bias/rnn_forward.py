"""A student's rnn_forward that adds only b_ih, as in the one-bias form of the cell, and forgets b_hh."""
import math

import torch


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    # h_t = tanh(W x_t + U h_{t-1} + b)
    Wx = x @ W_ih.transpose(0, 1)
    Uh = h_prev @ W_hh.transpose(0, 1)
    return torch.tanh(Wx + Uh + b_ih)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h_list = []
    h = h0
    for x_t in x.unbind(0):
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        h_list.append(h)
    return torch.stack(h_list), h_list[-1]


def linear_readout(h, W_hy, b_y):
    return h @ W_hy.T + b_y


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    states = [h0]
    for x_t in xs:
        states.append(math.tanh(theta_xh * x_t + theta_hh * states[-1] + b_h))
    return theta_hy * states[-1] + b_y, states[1:]
