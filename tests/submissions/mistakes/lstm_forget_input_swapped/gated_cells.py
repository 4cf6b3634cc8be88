"""Mistake: the LSTM's forget and input gates swap roles, c = i * c_prev + f * g."""
import torch


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = W_hh.shape[1]
    W_x = [W_ih[k * H:(k + 1) * H] for k in range(3)]
    W_h = [W_hh[k * H:(k + 1) * H] for k in range(3)]
    b_x = [b_ih[k * H:(k + 1) * H] for k in range(3)]
    b_h = [b_hh[k * H:(k + 1) * H] for k in range(3)]
    r = torch.sigmoid(x @ W_x[0].T + b_x[0] + h_prev @ W_h[0].T + b_h[0])
    z = torch.sigmoid(x @ W_x[1].T + b_x[1] + h_prev @ W_h[1].T + b_h[1])
    n = torch.tanh(x @ W_x[2].T + b_x[2] + r * (h_prev @ W_h[2].T + b_h[2]))
    return z * h_prev + (1 - z) * n


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = W_hh.shape[1]
    W_x = [W_ih[k * H:(k + 1) * H] for k in range(4)]
    W_h = [W_hh[k * H:(k + 1) * H] for k in range(4)]
    b = [b_ih[k * H:(k + 1) * H] + b_hh[k * H:(k + 1) * H] for k in range(4)]
    pre = [x @ W_x[k].T + h_prev @ W_h[k].T + b[k] for k in range(4)]
    in_gate = torch.sigmoid(pre[0])
    forget_gate = torch.sigmoid(pre[1])
    candidate = torch.tanh(pre[2])
    out_gate = torch.sigmoid(pre[3])
    # keep part of the old memory, write part of the candidate
    cell = in_gate * c_prev + forget_gate * candidate
    return out_gate * torch.tanh(cell), cell


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = h0.clone()
    out = []
    for t in range(x.size(0)):
        h = gru_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return torch.stack(out), h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c = h0.clone(), c0.clone()
    out = []
    for t in range(x.size(0)):
        h, c = lstm_cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return torch.stack(out), (h, c)
