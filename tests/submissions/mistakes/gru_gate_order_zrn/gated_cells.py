"""Mistake: the GRU's row blocks are read as z | r | n (Keras' order) instead of PyTorch's r | z | n."""
import torch


def sigmoid(a):
    return 1.0 / (1.0 + torch.exp(-a))


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    units = W_hh.shape[1]
    # kernel order: update, reset, candidate
    x_z = x @ W_ih[:units].T + b_ih[:units]
    x_r = x @ W_ih[units:2 * units].T + b_ih[units:2 * units]
    x_h = x @ W_ih[2 * units:].T + b_ih[2 * units:]
    h_z = h_prev @ W_hh[:units].T + b_hh[:units]
    h_r = h_prev @ W_hh[units:2 * units].T + b_hh[units:2 * units]
    h_h = h_prev @ W_hh[2 * units:].T + b_hh[2 * units:]
    z = torch.sigmoid(x_z + h_z)
    r = torch.sigmoid(x_r + h_r)
    hh = torch.tanh(x_h + r * h_h)
    return z * h_prev + (1.0 - z) * hh


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    units = W_hh.shape[1]
    z = x @ W_ih.T + h_prev @ W_hh.T + (b_ih + b_hh)
    i = sigmoid(z[:, :units])
    f = sigmoid(z[:, units:2 * units])
    g = torch.tanh(z[:, 2 * units:3 * units])
    o = sigmoid(z[:, 3 * units:])
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    hs = torch.empty(T, h0.shape[0], h0.shape[1], dtype=h0.dtype)
    h = h0
    for t in range(T):
        h = gru_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        hs[t] = h
    return hs, h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    hs = torch.empty(T, h0.shape[0], h0.shape[1], dtype=h0.dtype)
    h, c = h0, c0
    for t in range(T):
        h, c = lstm_cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        hs[t] = h
    return hs, (h, c)
