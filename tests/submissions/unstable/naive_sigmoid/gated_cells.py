"""Right but for one thing: the sigmoid is written as e^z / (1 + e^z), which is inf / inf = NaN once e^z
overflows (z above 88 in float32, above 709 in float64)."""
import torch


def sigmoid(z):
    e = torch.exp(z)
    return e / (1 + e)


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = sigmoid(gi[:, :H] + gh[:, :H])
    z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    return z * h_prev + (1 - z) * n


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gates = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i = sigmoid(gates[:, :H])
    f = sigmoid(gates[:, H : 2 * H])
    g = torch.tanh(gates[:, 2 * H : 3 * H])
    o = sigmoid(gates[:, 3 * H :])
    c = f * c_prev + i * g
    return o * torch.tanh(c), c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = []
    for t in range(len(x)):
        hs.append(gru_cell(x[t], hs[-1] if hs else h0, W_ih, W_hh, b_ih, b_hh))
    return torch.stack(hs), hs[-1]


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c = h0, c0
    hs = []
    for t in range(len(x)):
        h, c = lstm_cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), (h, c)
