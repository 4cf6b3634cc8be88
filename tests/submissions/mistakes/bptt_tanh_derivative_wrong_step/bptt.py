"""A student's bptt that uses the last step's tanh derivative 1 - h_T^2 at every step, as the slide's misprint does."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    hs = [h0]
    for v in xs:
        hs.append(math.tanh(theta_xh * v + theta_hh * hs[-1] + b_h))
    h_T = hs[-1]
    y_hat = theta_hy * h_T + b_y
    d = y_hat - y
    slope = 1 - h_T**2  # 1 - tanh^2(z_T), as on the slide
    result = {"loss": d * d / 2, "theta_hy": d * h_T, "b_y": d, "theta_xh": 0.0, "theta_hh": 0.0, "b_h": 0.0}
    upstream = d * theta_hy
    for k in range(len(xs), 0, -1):
        dz = upstream * slope
        result["theta_xh"] += dz * xs[k - 1]
        result["theta_hh"] += dz * hs[k - 1]
        result["b_h"] += dz
        upstream = dz * theta_hh
    return result


def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params.keys()}


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

    tanh_slope = 1 - H[-1] ** 2  # the derivative at the last step, used throughout
    dZ = torch.zeros_like(H[1:])  # dL/dz_t, index t - 1
    dh0 = torch.zeros_like(h0)
    if truncate is None:
        g = torch.zeros_like(h0)
        for i in range(T - 1, -1, -1):
            g = g + E[i] @ W_hy
            dZ[i] = g * tanh_slope
            g = dZ[i] @ W_hh
        dh0 = g
    else:
        for s in sources:
            g = E[s] @ W_hy
            i = s
            while i >= 0 and s - i <= truncate:
                dz = g * tanh_slope
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
