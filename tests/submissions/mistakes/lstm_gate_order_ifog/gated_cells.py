"""Mistake: the LSTM's row blocks are read as i | f | o | g (CS231n's layout) instead of PyTorch's i | f | g | o."""
import torch


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[-1]
    a_x = torch.addmm(b_ih, x, W_ih.t())
    a_h = torch.addmm(b_hh, h_prev, W_hh.t())
    r = torch.sigmoid(a_x[:, :H] + a_h[:, :H])
    z = torch.sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = torch.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    return n + z * (h_prev - n)


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    # as in the CS231n assignment: a = x Wx + h Wh + b, then slice into i, f, o, g
    N, H = h_prev.shape
    a = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
    ai, af, ao, ag = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    i = torch.sigmoid(ai)
    f = torch.sigmoid(af)
    o = torch.sigmoid(ao)
    g = torch.tanh(ag)
    next_c = f * c_prev + i * g
    next_h = o * torch.tanh(next_c)
    return next_h, next_c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    prev_h = h0
    h_list = []
    for t in range(T):
        prev_h = gru_cell(x[t], prev_h, W_ih, W_hh, b_ih, b_hh)
        h_list.append(prev_h)
    return torch.stack(h_list), prev_h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    prev_h, prev_c = h0, c0
    h_list = []
    for t in range(T):
        prev_h, prev_c = lstm_cell(x[t], prev_h, prev_c, W_ih, W_hh, b_ih, b_hh)
        h_list.append(prev_h)
    return torch.stack(h_list), (prev_h, prev_c)
