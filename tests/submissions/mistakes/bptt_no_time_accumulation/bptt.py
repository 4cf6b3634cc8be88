"""A student's bptt in which dL/dh_t is only the loss at step t: nothing flows back from h_{t+1}."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    T = len(xs)
    h = [h0]
    for t in range(T):
        h.append(math.tanh(theta_xh * xs[t] + theta_hh * h[t] + b_h))
    y_hat = theta_hy * h[T] + b_y
    err = y_hat - y
    # the loss sits at the last step, so only that step's z_T is differentiated
    dz = err * theta_hy * (1.0 - h[T] ** 2)
    return {
        "loss": 0.5 * err * err,
        "theta_xh": dz * xs[T - 1],
        "theta_hh": dz * h[T - 1],
        "theta_hy": err * h[T],
        "b_h": dz,
        "b_y": err,
    }


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
        for t in range(T, 0, -1):
            dh = dys[t - 1] @ W_hy  # the gradient of h_t: the loss of step t
            dz = dh * (1 - hs[t] ** 2)
            gW_ih = gW_ih + dz.T @ x[t - 1]
            gW_hh = gW_hh + dz.T @ hs[t - 1]
            gb = gb + dz.sum(0)
        gh0 = dz @ W_hh
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
    squares = [(g * g).sum() for g in grads.values()]
    total = torch.sqrt(torch.stack(squares).sum())
    factor = min(1.0, max_norm / (total.item() + 1e-6))
    return {k: g * factor for k, g in grads.items()}, total
