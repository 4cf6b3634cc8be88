"""Mistake: the GRU update gate is used the other way round, h' = (1 - z) * h + z * n."""
import torch


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    reset = torch.sigmoid(gi[:, :H] + gh[:, :H])
    update = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    new = torch.tanh(gi[:, 2 * H:] + reset * gh[:, 2 * H:])
    # z decides how much of the new candidate we take
    return (1 - update) * h_prev + update * new


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    pre = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
    input_gate = torch.sigmoid(pre[:, 0:H])
    forget_gate = torch.sigmoid(pre[:, H:2 * H])
    cand = torch.tanh(pre[:, 2 * H:3 * H])
    output_gate = torch.sigmoid(pre[:, 3 * H:4 * H])
    c_new = forget_gate * c_prev + input_gate * cand
    return output_gate * torch.tanh(c_new), c_new


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    states = [h0]
    for step in x:
        states.append(gru_cell(step, states[-1], W_ih, W_hh, b_ih, b_hh))
    hs = torch.stack(states[1:])
    return hs, hs[-1]


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    hs = []
    state = (h0, c0)
    for step in x:
        state = lstm_cell(step, state[0], state[1], W_ih, W_hh, b_ih, b_hh)
        hs.append(state[0])
    return torch.stack(hs), state
