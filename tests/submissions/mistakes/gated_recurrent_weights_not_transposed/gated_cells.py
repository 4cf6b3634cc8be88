"""A student's GRU and LSTM that transpose the input weights but multiply the state by the recurrent blocks as they
are (each block of W_hh is square, so nothing complains)."""
import torch


def blocks(W, b, G):
    H = W.shape[0] // G
    return [(W[k * H : (k + 1) * H], b[k * H : (k + 1) * H]) for k in range(G)]


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    (Wr, br), (Wz, bz), (Wn, bn) = blocks(W_ih, b_ih, 3)
    (Ur, cr), (Uz, cz), (Un, cn) = blocks(W_hh, b_hh, 3)
    r = torch.sigmoid(x @ Wr.T + br + h_prev @ Ur + cr)
    z = torch.sigmoid(x @ Wz.T + bz + h_prev @ Uz + cz)
    n = torch.tanh(x @ Wn.T + bn + r * (h_prev @ Un + cn))
    return (1 - z) * n + z * h_prev


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    gates = [x @ W.T + b + h_prev @ U + c for (W, b), (U, c) in zip(blocks(W_ih, b_ih, 4), blocks(W_hh, b_hh, 4))]
    i, f, o = torch.sigmoid(gates[0]), torch.sigmoid(gates[1]), torch.sigmoid(gates[3])
    c = f * c_prev + i * torch.tanh(gates[2])
    return o * torch.tanh(c), c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, out = h0, []
    for t in range(x.shape[0]):
        h = gru_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return torch.stack(out), h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, out = h0, c0, []
    for t in range(x.shape[0]):
        h, c = lstm_cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return torch.stack(out), (h, c)
