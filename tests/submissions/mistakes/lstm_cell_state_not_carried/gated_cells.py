"""Mistake: lstm_forward starts every step from the initial cell state c0 instead of the previous step's c."""
import torch


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    gates_x = torch.matmul(x, W_ih.transpose(0, 1)) + b_ih
    gates_h = torch.matmul(h_prev, W_hh.transpose(0, 1)) + b_hh
    H = h_prev.shape[1]
    r = torch.sigmoid(gates_x[..., :H] + gates_h[..., :H])
    z = torch.sigmoid(gates_x[..., H:2 * H] + gates_h[..., H:2 * H])
    n = torch.tanh(gates_x[..., 2 * H:] + r * gates_h[..., 2 * H:])
    return z * h_prev + (1 - z) * n


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    gates = torch.matmul(x, W_ih.transpose(0, 1)) + torch.matmul(h_prev, W_hh.transpose(0, 1)) + b_ih + b_hh
    H = h_prev.shape[1]
    i = torch.sigmoid(gates[..., :H])
    f = torch.sigmoid(gates[..., H:2 * H])
    g = torch.tanh(gates[..., 2 * H:3 * H])
    o = torch.sigmoid(gates[..., 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * torch.tanh(c_next)
    return h_next, c_next


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = h0
    hidden_states = []
    for t in range(x.shape[0]):
        h = gru_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        hidden_states.append(h)
    return torch.stack(hidden_states), h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h = h0
    hidden_states = []
    for t in range(x.shape[0]):
        h, c = lstm_cell(x[t], h, c0, W_ih, W_hh, b_ih, b_hh)
        hidden_states.append(h)
    return torch.stack(hidden_states), (h, c)
