"""A correct Elman forward pass written differently from the reference: numpy inside, unit-by-unit loops."""
import math

import numpy as np
import torch


def as_array(t):
    return t.detach().cpu().numpy()


def as_tensor(array, like):
    """A numpy result back as a torch tensor of the input's dtype."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.dtype)


def step(X, Hp, Wi, Wh, bias):
    """One Elman step in numpy, one hidden unit at a time: X (B, D), Hp (B, H) -> (B, H)."""
    units = Wi.shape[0]
    out = np.empty((X.shape[0], units), dtype=X.dtype)
    for j in range(units):
        # unit j reads row j of each weight matrix
        out[:, j] = np.tanh(X.dot(Wi[j]) + Hp.dot(Wh[j]) + bias[j])
    return out


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    bias = as_array(b_ih) + as_array(b_hh)
    return as_tensor(step(as_array(x), as_array(h_prev), as_array(W_ih), as_array(W_hh), bias), x)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    X = as_array(x)
    Wi, Wh = as_array(W_ih), as_array(W_hh)
    bias = as_array(b_ih) + as_array(b_hh)
    T = X.shape[0]
    H0 = as_array(h0)
    states = np.empty((T,) + H0.shape, dtype=X.dtype)
    previous = H0
    for t in range(T):
        states[t] = step(X[t], previous, Wi, Wh, bias)
        previous = states[t]
    hs = as_tensor(states, x)
    return hs, hs[T - 1].clone()


def linear_readout(h, W_hy, b_y):
    lead = h.shape[:-1]
    rows = as_array(h).reshape(-1, h.shape[-1])
    y = np.einsum("nh,oh->no", rows, as_array(W_hy)) + as_array(b_y)
    return as_tensor(y.reshape(tuple(lead) + (W_hy.shape[0],)), h)


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    def unroll(remaining, h, acc):
        if not remaining:
            return acc
        h_next = math.tanh(theta_xh * remaining[0] + theta_hh * h + b_h)
        return unroll(remaining[1:], h_next, acc + [h_next])

    hs = unroll(list(xs), h0, [])
    return theta_hy * hs[-1] + b_y, hs
