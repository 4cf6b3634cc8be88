"""Mistake: b_hn is added outside the reset gate, n = tanh(x W_in^T + b_in + r * (h W_hn^T) + b_hn)."""
import torch


def affine(v, W, b=None):
    out = v @ W.T
    return out if b is None else out + b


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.size(-1)
    r = torch.sigmoid(affine(x, W_ih[0:H], b_ih[0:H]) + affine(h_prev, W_hh[0:H], b_hh[0:H]))
    z = torch.sigmoid(affine(x, W_ih[H:2 * H], b_ih[H:2 * H]) + affine(h_prev, W_hh[H:2 * H], b_hh[H:2 * H]))
    n = torch.tanh(affine(x, W_ih[2 * H:], b_ih[2 * H:]) + r * affine(h_prev, W_hh[2 * H:]) + b_hh[2 * H:])
    return z * h_prev + (1 - z) * n


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.size(-1)
    blocks = []
    for k in range(4):
        rows = slice(k * H, (k + 1) * H)
        blocks.append(affine(x, W_ih[rows], b_ih[rows]) + affine(h_prev, W_hh[rows], b_hh[rows]))
    i, f, g, o = torch.sigmoid(blocks[0]), torch.sigmoid(blocks[1]), torch.tanh(blocks[2]), torch.sigmoid(blocks[3])
    c = f * c_prev + i * g
    return o * torch.tanh(c), c


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = h0
    collected = []
    for t in range(len(x)):
        h = gru_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        collected.append(h.unsqueeze(0))
    return torch.cat(collected, dim=0), h


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c = h0, c0
    collected = []
    for t in range(len(x)):
        h, c = lstm_cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        collected.append(h.unsqueeze(0))
    return torch.cat(collected, dim=0), (h, c)
