"""A student's bptt that averages the squared errors over the time steps and the batch instead of summing them."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    states = [h0]
    for x_t in xs:
        states.append(math.tanh(theta_xh * x_t + theta_hh * states[-1] + b_h))
    e = theta_hy * states[-1] + b_y - y
    out = {"loss": 0.5 * e**2, "theta_hy": e * states[-1], "b_y": e, "theta_xh": 0.0, "theta_hh": 0.0, "b_h": 0.0}
    g_h = e * theta_hy
    for t in reversed(range(1, len(states))):
        g_z = g_h * (1 - states[t] ** 2)
        out["theta_xh"] += g_z * xs[t - 1]
        out["theta_hh"] += g_z * states[t - 1]
        out["b_h"] += g_z
        g_h = g_z * theta_hh
    return out


def sgd_step(params, grads, lr):
    return dict((k, v - lr * grads[k]) for k, v in params.items())


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    T, B = x.shape[0], x.shape[1]
    H = [h0]
    for t in range(T):
        H.append(torch.tanh(x[t] @ W_ih.T + H[-1] @ W_hh.T + b_ih + b_hh))
    Y = torch.stack([H[t + 1] @ W_hy.T + b_y for t in range(T)])  # (T, B, O)
    dY = torch.zeros_like(Y)
    if mode == "many_to_many":
        errors = Y - targets
        loss = 0.5 * (errors**2).sum(-1).mean()  # mean squared error over t and b
        dY = errors / (T * B)
        loss_steps = range(1, T + 1)
    elif mode == "many_to_one":
        errors = Y[-1] - targets
        loss = 0.5 * (errors**2).sum(-1).mean()  # mean over the batch
        dY[-1] = errors / B
        loss_steps = [T]
    else:
        raise ValueError(mode)

    dW_hy = torch.zeros_like(W_hy)
    db_y = torch.zeros_like(b_y)
    for t in range(T):
        dW_hy = dW_hy + dY[t].T @ H[t + 1]
        db_y = db_y + dY[t].sum(0)

    dW_ih, dW_hh, db = torch.zeros_like(W_ih), torch.zeros_like(W_hh), torch.zeros_like(b_ih)
    if truncate is None:
        carry = torch.zeros_like(h0)
        for t in range(T, 0, -1):
            g_h = carry + dY[t - 1] @ W_hy
            g_z = g_h * (1 - H[t] ** 2)
            dW_ih = dW_ih + g_z.T @ x[t - 1]
            dW_hh = dW_hh + g_z.T @ H[t - 1]
            db = db + g_z.sum(0)
            carry = g_z @ W_hh
        dh0 = carry
    else:
        dh0 = torch.zeros_like(h0)
        for s in loss_steps:
            g_h = dY[s - 1] @ W_hy
            lowest = max(1, s - truncate)
            for t in range(s, lowest - 1, -1):
                g_z = g_h * (1 - H[t] ** 2)
                dW_ih = dW_ih + g_z.T @ x[t - 1]
                dW_hh = dW_hh + g_z.T @ H[t - 1]
                db = db + g_z.sum(0)
                g_h = g_z @ W_hh
            if s - truncate <= 0:
                dh0 = dh0 + g_h
    return loss, {"W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db, "b_hh": db.clone(), "W_hy": dW_hy, "b_y": db_y, "h0": dh0}


def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum(g.pow(2).sum() for g in grads.values()))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return {k: g * scale for k, g in grads.items()}, total
