"""A student's bptt whose SGD step adds the gradient, theta + lr * grad, instead of subtracting it."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    T = len(xs)
    hs = [h0]
    for t in range(T):
        hs.append(math.tanh(theta_xh * xs[t] + theta_hh * hs[t] + b_h))
    err = theta_hy * hs[T] + b_y - y
    # dJ/dz_t for every step, from the last one backwards
    dz = [0.0] * (T + 1)
    dz[T] = err * theta_hy * (1 - hs[T] ** 2)
    for t in range(T - 1, 0, -1):
        dz[t] = dz[t + 1] * theta_hh * (1 - hs[t] ** 2)
    return {
        "loss": 0.5 * err**2,
        "theta_xh": sum(dz[t] * xs[t - 1] for t in range(1, T + 1)),
        "theta_hh": sum(dz[t] * hs[t - 1] for t in range(1, T + 1)),
        "theta_hy": err * hs[T],
        "b_h": sum(dz[t] for t in range(1, T + 1)),
        "b_y": err,
    }


def sgd_step(params, grads, lr):
    out = {}
    for name in params:
        out[name] = params[name] + lr * grads[name]
    return out


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    T = x.shape[0]
    h = [h0]
    for t in range(T):
        h.append(torch.tanh(x[t] @ W_ih.T + h[t] @ W_hh.T + (b_ih + b_hh)))
    H = torch.stack(h)  # (T + 1, B, H)
    Y = H[1:] @ W_hy.T + b_y  # (T, B, O)
    if mode == "many_to_many":
        E = Y - targets
        sources = list(range(T))
    elif mode == "many_to_one":
        E = torch.cat([torch.zeros_like(Y[:-1]), (Y[-1] - targets).unsqueeze(0)])
        sources = [T - 1]
    else:
        raise ValueError(mode)
    loss = 0.5 * torch.sum(E * E)
    dW_hy = torch.einsum("tbo,tbh->oh", E, H[1:])
    db_y = E.sum(dim=(0, 1))

    slope = 1 - H[1:] ** 2  # tanh'(z_t), index t - 1
    dZ = torch.zeros_like(H[1:])  # dL/dz_t, index t - 1
    dh0 = torch.zeros_like(h0)
    if truncate is None:
        g = torch.zeros_like(h0)
        for i in range(T - 1, -1, -1):
            g = g + E[i] @ W_hy
            dZ[i] = g * slope[i]
            g = dZ[i] @ W_hh
        dh0 = g
    else:
        for s in sources:
            g = E[s] @ W_hy
            i = s
            while i >= 0 and s - i <= truncate:
                dz = g * slope[i]
                dZ[i] = dZ[i] + dz
                g = dz @ W_hh
                i -= 1
            if i < 0 and s + 1 <= truncate:
                dh0 = dh0 + g
    dW_ih = torch.einsum("tbh,tbd->hd", dZ, x)
    dW_hh = torch.einsum("tbh,tbk->hk", dZ, H[:-1])
    db = dZ.sum(dim=(0, 1))
    return loss, {"W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db, "b_hh": db.clone(), "W_hy": dW_hy, "b_y": db_y, "h0": dh0}


def clip_grad_norm(grads, max_norm):
    flat = torch.cat([g.flatten() for g in grads.values()])
    total_norm = torch.sqrt(torch.dot(flat, flat))
    c = min(1.0, float(max_norm / (total_norm + 1e-6)))
    return {name: c * g for name, g in grads.items()}, total_norm
