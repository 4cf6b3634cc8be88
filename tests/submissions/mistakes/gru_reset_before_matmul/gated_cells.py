"""Mistake: the GRU candidate uses the d2l / Cho et al. form, n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)."""
import torch


def _split(t, k):
    size = t.shape[0] // k
    return [t[j * size:(j + 1) * size] for j in range(k)]


def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    Wxr, Wxz, Wxh = _split(W_ih, 3)
    Whr, Whz, Whh = _split(W_hh, 3)
    bxr, bxz, bxh = _split(b_ih, 3)
    bhr, bhz, bhh = _split(b_hh, 3)
    R = torch.sigmoid(torch.matmul(x, Wxr.t()) + torch.matmul(h_prev, Whr.t()) + bxr + bhr)
    Z = torch.sigmoid(torch.matmul(x, Wxz.t()) + torch.matmul(h_prev, Whz.t()) + bxz + bhz)
    # candidate hidden state, as in Dive into Deep Learning: reset the state, then multiply
    H_tilde = torch.tanh(torch.matmul(x, Wxh.t()) + bxh + torch.matmul(R * h_prev, Whh.t()) + bhh)
    return Z * h_prev + (1 - Z) * H_tilde


def lstm_cell(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    Wxi, Wxf, Wxc, Wxo = _split(W_ih, 4)
    Whi, Whf, Whc, Who = _split(W_hh, 4)
    bxi, bxf, bxc, bxo = _split(b_ih, 4)
    bhi, bhf, bhc, bho = _split(b_hh, 4)
    I = torch.sigmoid(torch.matmul(x, Wxi.t()) + torch.matmul(h_prev, Whi.t()) + bxi + bhi)
    F = torch.sigmoid(torch.matmul(x, Wxf.t()) + torch.matmul(h_prev, Whf.t()) + bxf + bhf)
    O = torch.sigmoid(torch.matmul(x, Wxo.t()) + torch.matmul(h_prev, Who.t()) + bxo + bho)
    C_tilde = torch.tanh(torch.matmul(x, Wxc.t()) + torch.matmul(h_prev, Whc.t()) + bxc + bhc)
    C = F * c_prev + I * C_tilde
    H = O * torch.tanh(C)
    return H, C


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    outputs = []
    H = h0
    for t in range(x.shape[0]):
        H = gru_cell(x[t], H, W_ih, W_hh, b_ih, b_hh)
        outputs.append(H)
    return torch.stack(outputs, dim=0), H


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    outputs = []
    H, C = h0, c0
    for t in range(x.shape[0]):
        H, C = lstm_cell(x[t], H, C, W_ih, W_hh, b_ih, b_hh)
        outputs.append(H)
    return torch.stack(outputs, dim=0), (H, C)
