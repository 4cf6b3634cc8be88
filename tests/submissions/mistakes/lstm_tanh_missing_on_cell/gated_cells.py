"""Mistake: the LSTM's hidden state is h = o * c, without the tanh on the cell."""
import torch


def gate_blocks(x, h, W_ih, W_hh, b_ih, b_hh, k):
    pre = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    return pre.chunk(k, dim=-1)


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    xr, xz, xn = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    hr, hz, hn = (h_prev @ W_hh.T + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h_prev


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i_pre, f_pre, g_pre, o_pre = gate_blocks(x, h_prev, W_ih, W_hh, b_ih, b_hh, 4)
    i = torch.sigmoid(i_pre)
    f = torch.sigmoid(f_pre)
    g = torch.tanh(g_pre)
    o = torch.sigmoid(o_pre)
    c = f * c_prev + i * g
    h = o * c
    return h, c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = []
    h = h0
    for x_t in x.unbind(0):
        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), hs[-1]


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    hs = []
    h, c = h0, c0
    for x_t in x.unbind(0):
        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), (hs[-1], c)
