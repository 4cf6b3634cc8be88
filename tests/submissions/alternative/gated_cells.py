"""A correct GRU and LSTM written differently from the reference: numpy inside, per-gate and per-sample loops."""
import numpy as np
import torch


def to_np(t):
    return t.detach().cpu().numpy()


def back(array, like):
    """A numpy result as a torch tensor of the input's dtype."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.dtype)


def logistic(a):
    # 1 / (1 + e^-a) written with tanh, which never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    X, Hp = to_np(x), to_np(h_prev)
    Wi, Wh, bi, bh = to_np(W_ih), to_np(W_hh), to_np(b_ih), to_np(b_hh)
    size = Hp.shape[1]
    # gate k uses rows k*size .. (k+1)*size - 1; order reset, update, new
    pieces = {}
    for k, name in enumerate(("reset", "update", "new")):
        rows = slice(k * size, (k + 1) * size)
        pieces[name] = (X.dot(Wi[rows].T) + bi[rows], Hp.dot(Wh[rows].T) + bh[rows])
    reset = logistic(pieces["reset"][0] + pieces["reset"][1])
    update = logistic(pieces["update"][0] + pieces["update"][1])
    new = np.tanh(pieces["new"][0] + reset * pieces["new"][1])
    h = update * Hp + (1.0 - update) * new
    return back(h, x)


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    X, Hp, Cp = to_np(x), to_np(h_prev), to_np(c_prev)
    Wi, Wh, b = to_np(W_ih), to_np(W_hh), to_np(b_ih) + to_np(b_hh)
    batch, size = Hp.shape
    h_out = np.empty_like(Hp)
    c_out = np.empty_like(Cp)
    for s in range(batch):  # one sample at a time: a matrix-vector product per sample
        a = Wi @ X[s] + Wh @ Hp[s] + b  # (4H,)
        in_gate = logistic(a[0:size])
        forget_gate = logistic(a[size:2 * size])
        cell_in = np.tanh(a[2 * size:3 * size])
        out_gate = logistic(a[3 * size:4 * size])
        c_out[s] = forget_gate * Cp[s] + in_gate * cell_in
        h_out[s] = out_gate * np.tanh(c_out[s])
    return back(h_out, x), back(c_out, x)


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    steps = x.shape[0]
    hs = torch.zeros((steps, *h0.shape), dtype=x.dtype)
    state = h0
    for t in range(steps):
        state = gru_cell(x[t], state, W_ih, W_hh, b_ih, b_hh)
        hs[t] = state
    return hs, hs[steps - 1].clone()


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    steps = x.shape[0]
    hs = torch.zeros((steps, *h0.shape), dtype=x.dtype)
    state = (h0, c0)
    for t in range(steps):
        state = lstm_cell(x[t], *state, W_ih, W_hh, b_ih, b_hh)
        hs[t] = state[0]
    return hs, (hs[steps - 1].clone(), state[1])
