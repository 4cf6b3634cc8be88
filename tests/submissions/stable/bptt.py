"""Correct, and stable where the pre-activations are huge, but written differently from the reference: tanh as
2 sigmoid(2z) - 1, its derivative as sech^2(z) from the pre-activation z (1 / cosh(z)^2, which is 0 once cosh
overflows; for floats 4 e^-2|z| / (1 + e^-2|z|)^2), and BPTT as one backward window per loss step."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    zs, hs = [], [h0]
    for x in xs:
        zs.append(theta_xh * x + theta_hh * hs[-1] + b_h)
        e = math.exp(-2 * abs(zs[-1]))
        hs.append(math.copysign((1 - e) / (1 + e), zs[-1]))
    err = theta_hy * hs[-1] + b_y - y
    out = {"loss": err * err / 2, "theta_xh": 0.0, "theta_hh": 0.0, "theta_hy": err * hs[-1], "b_h": 0.0, "b_y": err}
    dh = err * theta_hy
    for t in reversed(range(len(xs))):
        e = math.exp(-2 * abs(zs[t]))
        dz = dh * 4 * e / (1 + e) ** 2
        out["theta_xh"] += dz * xs[t]
        out["theta_hh"] += dz * hs[t]
        out["b_h"] += dz
        dh = dz * theta_hh
    return out


def sgd_step(params, grads, lr):
    return {k: v - lr * grads[k] for k, v in params.items()}


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    if mode not in ("many_to_many", "many_to_one"):
        raise ValueError(mode)
    T = x.shape[0]
    zs, hs = [], [h0]
    for t in range(T):
        zs.append(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh)
        hs.append(2 * torch.sigmoid(2 * zs[-1]) - 1)
    steps = range(1, T + 1) if mode == "many_to_many" else [T]
    errors = {s: hs[s] @ W_hy.T + b_y - (targets[s - 1] if mode == "many_to_many" else targets) for s in steps}
    loss = sum((e * e).sum() for e in errors.values()) / 2
    g = {k: torch.zeros_like(v) for k, v in [("W_ih", W_ih), ("W_hh", W_hh), ("b_ih", b_ih), ("h0", h0)]}
    g["W_hy"] = sum(torch.einsum("bo,bh->oh", e, hs[s]) for s, e in errors.items())
    g["b_y"] = sum(e.sum(0) for e in errors.values())
    window = T if truncate is None else truncate
    for s, e in errors.items():
        dh = e @ W_hy
        for t in range(s, max(s - window, 1) - 1, -1):
            dz = dh / torch.cosh(zs[t - 1]) ** 2
            g["W_ih"] += torch.einsum("bh,bd->hd", dz, x[t - 1])
            g["W_hh"] += torch.einsum("bh,bk->hk", dz, hs[t - 1])
            g["b_ih"] += dz.sum(0)
            dh = dz @ W_hh
        if s <= window:
            g["h0"] += dh
    g["b_hh"] = g["b_ih"].clone()
    return loss, g


def clip_grad_norm(grads, max_norm):
    total = torch.cat([g.flatten() for g in grads.values()]).norm()
    factor = (max_norm / (total + 1e-6)).clamp(max=1.0)
    return {k: g * factor for k, g in grads.items()}, total
