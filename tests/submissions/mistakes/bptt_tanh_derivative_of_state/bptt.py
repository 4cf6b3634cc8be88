"""A student's bptt whose tanh derivative is 1 - tanh(h)^2 of the state h = tanh(z), in the scalar and the vector RNN."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    # forward-mode: carry dh_t/dtheta along with h_t
    h = h0
    dxh = dhh = dbh = 0.0
    for x_t in xs:
        before = h
        h = math.tanh(theta_xh * x_t + theta_hh * before + b_h)
        slope = 1.0 - math.tanh(h) ** 2
        dxh = slope * (x_t + theta_hh * dxh)
        dhh = slope * (before + theta_hh * dhh)
        dbh = slope * (1.0 + theta_hh * dbh)
    out = theta_hy * h + b_y
    r = out - y
    return {
        "loss": 0.5 * r * r,
        "theta_xh": r * theta_hy * dxh,
        "theta_hh": r * theta_hy * dhh,
        "theta_hy": r * h,
        "b_h": r * theta_hy * dbh,
        "b_y": r,
    }


def sgd_step(params, grads, lr):
    updated = {}
    for name, value in params.items():
        updated[name] = value - grads[name] * lr
    return updated


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    T = x.shape[0]
    states = [h0]
    for t in range(1, T + 1):
        states.append(torch.tanh(x[t - 1] @ W_ih.T + b_ih + states[t - 1] @ W_hh.T + b_hh))
    preds = {t: states[t] @ W_hy.T + b_y for t in range(1, T + 1)}
    if mode == "many_to_many":
        residual = {t: preds[t] - targets[t - 1] for t in range(1, T + 1)}
    elif mode == "many_to_one":
        residual = {T: preds[T] - targets}
    else:
        raise ValueError("unknown mode " + str(mode))
    loss = 0.5 * sum((r**2).sum() for r in residual.values())

    dW_hy = sum(residual[t].T @ states[t] for t in residual)
    db_y = sum(residual[t].sum(dim=0) for t in residual)
    dW_ih = torch.zeros_like(W_ih)
    dW_hh = torch.zeros_like(W_hh)
    db_h = torch.zeros_like(b_ih)
    dh0 = torch.zeros_like(h0)
    # every loss step sends its error back through a window of steps; full BPTT is the window of length T
    window = T if truncate is None else truncate
    for s, r in residual.items():
        g = r @ W_hy  # dL_s/dh_s
        t = s
        while t >= 1 and s - t <= window:
            g_z = g * (1 - torch.tanh(states[t]) ** 2)  # dL_s/dz_t
            dW_ih = dW_ih + g_z.T @ x[t - 1]
            dW_hh = dW_hh + g_z.T @ states[t - 1]
            db_h = db_h + g_z.sum(dim=0)
            g = g_z @ W_hh
            t -= 1
        if t == 0 and s <= window:
            dh0 = dh0 + g
    grads = {"W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_h, "b_hh": db_h.clone(), "W_hy": dW_hy, "b_y": db_y, "h0": dh0}
    return loss, grads


def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum((g * g).sum() for g in grads.values()))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return {k: v * scale for k, v in grads.items()}, total
