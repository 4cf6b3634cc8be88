"""A student's bptt whose clipping always rescales the gradients to max_norm, also when their norm is smaller."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    T = len(xs)
    h = [h0]
    for t in range(T):
        h.append(math.tanh(theta_xh * xs[t] + theta_hh * h[t] + b_h))
    y_hat = theta_hy * h[T] + b_y
    err = y_hat - y
    grads = {"loss": 0.5 * err * err, "theta_hy": err * h[T], "b_y": err}
    dz = [0.0] * (T + 1)
    dh = err * theta_hy
    for t in range(T, 0, -1):
        dz[t] = dh * (1.0 - h[t] ** 2)
        dh = dz[t] * theta_hh
    grads["theta_xh"] = sum(dz[t] * xs[t - 1] for t in range(1, T + 1))
    grads["theta_hh"] = sum(dz[t] * h[t - 1] for t in range(1, T + 1))
    grads["b_h"] = sum(dz[1:])
    return grads


def sgd_step(params, grads, lr):
    new = {}
    for key in params:
        new[key] = params[key] - lr * grads[key]
    return new


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    if mode not in ("many_to_many", "many_to_one"):
        raise ValueError(mode)
    T = x.shape[0]
    hs = [h0]
    for t in range(T):
        hs.append(torch.tanh(x[t] @ W_ih.T + b_ih + hs[t] @ W_hh.T + b_hh))
    ys = [hs[t + 1] @ W_hy.T + b_y for t in range(T)]
    if mode == "many_to_many":
        dys = [ys[t] - targets[t] for t in range(T)]
        loss_at = list(range(1, T + 1))
    else:
        dys = [torch.zeros_like(ys[t]) for t in range(T - 1)] + [ys[T - 1] - targets]
        loss_at = [T]
    loss = sum(0.5 * (d * d).sum() for d in dys)
    gW_hy = sum(dys[t].T @ hs[t + 1] for t in range(T))
    gb_y = sum(dys[t].sum(0) for t in range(T))

    gW_ih = torch.zeros_like(W_ih)
    gW_hh = torch.zeros_like(W_hh)
    gb = torch.zeros_like(b_ih)
    if truncate is None:
        dh = torch.zeros_like(h0)
        for t in range(T, 0, -1):
            dh = dh + dys[t - 1] @ W_hy
            dz = dh * (1 - hs[t] ** 2)
            gW_ih = gW_ih + dz.T @ x[t - 1]
            gW_hh = gW_hh + dz.T @ hs[t - 1]
            gb = gb + dz.sum(0)
            dh = dz @ W_hh
        gh0 = dh
    else:
        gh0 = torch.zeros_like(h0)
        for s in loss_at:
            dh = dys[s - 1] @ W_hy
            t = s
            while t >= 1 and s - t <= truncate:
                dz = dh * (1 - hs[t] ** 2)
                gW_ih = gW_ih + dz.T @ x[t - 1]
                gW_hh = gW_hh + dz.T @ hs[t - 1]
                gb = gb + dz.sum(0)
                dh = dz @ W_hh
                t -= 1
            if t == 0 and s <= truncate:
                gh0 = gh0 + dh
    grads = {"W_ih": gW_ih, "W_hh": gW_hh, "b_ih": gb, "b_hh": gb.clone(), "W_hy": gW_hy, "b_y": gb_y, "h0": gh0}
    return loss, grads


def clip_grad_norm(grads, max_norm):
    # rescale so that the global norm becomes max_norm
    total = torch.sqrt(sum((g**2).sum() for g in grads.values()))
    ratio = max_norm / (total + 1e-6)
    return {k: ratio * g for k, g in grads.items()}, total
