"""Right but for one thing: tanh is written as (e^2z - 1) / (e^2z + 1), which is inf / inf = NaN once e^2z
overflows (z above 44 in float32, above 355 in float64; math.exp raises OverflowError there)."""
import math

import torch


def tanh(z):
    e = torch.exp(2 * z)
    return (e - 1) / (e + 1)


def scalar_tanh(z):
    e = math.exp(2 * z)
    return (e - 1) / (e + 1)


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    hs = [h0]
    for x in xs:
        hs.append(scalar_tanh(theta_xh * x + theta_hh * hs[-1] + b_h))
    err = theta_hy * hs[-1] + b_y - y
    grads = {"loss": 0.5 * err**2, "theta_xh": 0.0, "theta_hh": 0.0, "theta_hy": err * hs[-1], "b_h": 0.0, "b_y": err}
    dh = err * theta_hy
    for t in range(len(xs), 0, -1):
        dz = dh * (1 - hs[t] ** 2)
        grads["theta_xh"] += dz * xs[t - 1]
        grads["theta_hh"] += dz * hs[t - 1]
        grads["b_h"] += dz
        dh = dz * theta_hh
    return grads


def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    T = x.shape[0]
    hs = [h0]
    for t in range(T):
        hs.append(tanh(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    ys = [h @ W_hy.T + b_y for h in hs[1:]]
    if mode == "many_to_many":
        errors = {s: ys[s - 1] - targets[s - 1] for s in range(1, T + 1)}
    else:
        errors = {T: ys[-1] - targets}
    loss = sum(0.5 * (e**2).sum() for e in errors.values())
    g = {"W_ih": torch.zeros_like(W_ih), "W_hh": torch.zeros_like(W_hh), "b_ih": torch.zeros_like(b_ih)}
    g["W_hy"] = sum(e.T @ hs[s] for s, e in errors.items())
    g["b_y"] = sum(e.sum(0) for e in errors.values())
    g["h0"] = torch.zeros_like(h0)
    window = T if truncate is None else truncate
    for s, e in errors.items():
        dh = e @ W_hy
        for t in range(s, max(s - window, 1) - 1, -1):
            dz = dh * (1 - hs[t] ** 2)
            g["W_ih"] = g["W_ih"] + dz.T @ x[t - 1]
            g["W_hh"] = g["W_hh"] + dz.T @ hs[t - 1]
            g["b_ih"] = g["b_ih"] + dz.sum(0)
            dh = dz @ W_hh
        if s <= window:
            g["h0"] = g["h0"] + dh
    g["b_hh"] = g["b_ih"].clone()
    return loss, g


def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum((g**2).sum() for g in grads.values()))
    scale = min(1.0, float(max_norm / (total + 1e-6)))
    return {k: g * scale for k, g in grads.items()}, total
