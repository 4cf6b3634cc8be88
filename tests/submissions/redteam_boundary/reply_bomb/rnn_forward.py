"""Red team, issue 11: replies built to exhaust the grader while it reads them.

linear_readout returns [{}] * 8_000_000 (8 million values), scalar_rnn a list of 5 million ints as its states,
and rnn_cell a list nested 10,000 deep (built without recursion). rnn_forward is honest; attention.py is the
reference but for additive_scores, which returns a 96 MB tensor. Each bomb must cost its own task, with a
message, and the grader's memory must stay bounded.
"""

import torch


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    nested = []
    for _ in range(10_000):
        nested = [nested]
    return nested


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Honest, and self-contained: it calls none of the hostile functions."""
    h, hs = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
    return torch.stack(hs), h


def linear_readout(h, W_hy, b_y):
    return [{}] * 8_000_000


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    return 0.0, list(range(5_000_000))
