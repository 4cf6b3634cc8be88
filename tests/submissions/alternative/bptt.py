"""A correct BPTT written differently from the reference: numpy inside, one sequence of the batch at a time,
every loss step sent back through its own window (full BPTT is the window of length T)."""
import math

import numpy as np
import torch


def as_array(t):
    return t.detach().cpu().numpy()


def as_tensor(array, like):
    """A numpy result back as a torch tensor of the input's dtype."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.dtype)


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    T = len(xs)
    h = [h0]
    for t in range(1, T + 1):
        h.append(math.tanh(theta_xh * xs[t - 1] + theta_hh * h[t - 1] + b_h))
    e = theta_hy * h[T] + b_y - y
    d_xh = d_hh = d_bh = 0.0
    for t in range(1, T + 1):
        # dJ/dz_t = e * theta_hy * prod_{k = t+1..T} (1 - h_k^2) theta_hh * (1 - h_t^2), written out
        chain = e * theta_hy * (1 - h[t] ** 2)
        for k in range(t + 1, T + 1):
            chain *= theta_hh * (1 - h[k] ** 2)
        d_xh += chain * xs[t - 1]
        d_hh += chain * h[t - 1]
        d_bh += chain
    return {"loss": e * e / 2, "theta_xh": d_xh, "theta_hh": d_hh, "theta_hy": e * h[T], "b_h": d_bh, "b_y": e}


def sgd_step(params, grads, lr):
    new = {}
    for name, value in params.items():
        if isinstance(value, torch.Tensor):
            new[name] = torch.sub(value, grads[name], alpha=lr)
        else:
            new[name] = value - lr * grads[name]
    return new


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    if mode not in ("many_to_many", "many_to_one"):
        raise ValueError(f"unknown mode {mode!r}")
    X, H0, Y_true = as_array(x), as_array(h0), as_array(targets)
    Wi, Wh, Wy = as_array(W_ih), as_array(W_hh), as_array(W_hy)
    bias, by = as_array(b_ih) + as_array(b_hh), as_array(b_y)
    T, B = X.shape[0], X.shape[1]
    window = T if truncate is None else truncate

    g_Wi, g_Wh, g_b = np.zeros_like(Wi), np.zeros_like(Wh), np.zeros_like(bias)
    g_Wy, g_by, g_h0 = np.zeros_like(Wy), np.zeros_like(by), np.zeros_like(H0)
    loss = 0.0
    for b in range(B):
        hs = [H0[b]]
        for t in range(1, T + 1):
            hs.append(np.tanh(Wi @ X[t - 1, b] + Wh @ hs[t - 1] + bias))
        for s in range(1, T + 1) if mode == "many_to_many" else [T]:
            target = Y_true[s - 1, b] if mode == "many_to_many" else Y_true[b]
            e = Wy @ hs[s] + by - target
            loss += 0.5 * float(e @ e)
            g_Wy += np.outer(e, hs[s])
            g_by += e
            g = Wy.T @ e  # dL_s/dh_s
            for t in range(s, max(1, s - window) - 1, -1):
                g_z = g * (1 - hs[t] ** 2)
                g_Wi += np.outer(g_z, X[t - 1, b])
                g_Wh += np.outer(g_z, hs[t - 1])
                g_b += g_z
                g = Wh.T @ g_z  # dL_s/dh_{t-1}
            if s <= window:
                g_h0[b] += g
    grads = {
        "W_ih": as_tensor(g_Wi, x),
        "W_hh": as_tensor(g_Wh, x),
        "b_ih": as_tensor(g_b, x),
        "b_hh": as_tensor(g_b.copy(), x),
        "W_hy": as_tensor(g_Wy, x),
        "b_y": as_tensor(g_by, x),
        "h0": as_tensor(g_h0, x),
    }
    return torch.tensor(loss, dtype=x.dtype), grads


def clip_grad_norm(grads, max_norm):
    like = next(iter(grads.values()))
    arrays = {name: as_array(g) for name, g in grads.items()}
    total = math.sqrt(sum(float(np.sum(a.astype(np.float64) ** 2)) for a in arrays.values()))
    factor = max_norm / (total + 1e-6)
    if factor >= 1.0:
        return {name: g.clone() for name, g in grads.items()}, torch.tensor(total, dtype=like.dtype)
    return {name: as_tensor(a * factor, grads[name]) for name, a in arrays.items()}, torch.tensor(total, dtype=like.dtype)
