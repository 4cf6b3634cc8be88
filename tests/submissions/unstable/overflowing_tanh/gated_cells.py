"""Right but for one thing: tanh is written as (e^2z - 1) / (e^2z + 1), which is inf / inf = NaN once e^2z
overflows (z above 44 in float32, above 355 in float64)."""
import torch


def tanh(z):
    e = torch.exp(2 * z)
    return (e - 1) / (e + 1)


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a_r, a_z, a_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    c_r, c_z, c_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=1)
    r = torch.sigmoid(a_r + c_r)
    z = torch.sigmoid(a_z + c_z)
    n = tanh(a_n + r * c_n)
    return (1 - z) * n + z * h_prev


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh).chunk(4, dim=1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * tanh(g)
    return torch.sigmoid(o) * tanh(c), c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for x_t in x:
        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, hs = h0, c0, []
    for x_t in x:
        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), (h, c)
