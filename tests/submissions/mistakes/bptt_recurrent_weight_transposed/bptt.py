"""A student's bptt that sends the gradient back to h_{t-1} through W_hh^T instead of W_hh."""
import math

import torch


def scalar_rnn_gradients(xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    n = len(xs)
    hs = [0.0] * (n + 1)
    hs[0] = h0
    for i in range(1, n + 1):
        hs[i] = math.tanh(theta_xh * xs[i - 1] + theta_hh * hs[i - 1] + b_h)
    pred = theta_hy * hs[n] + b_y
    diff = pred - y
    gxh = ghh = gb = 0.0
    back = diff * theta_hy
    for i in range(n, 0, -1):
        local = back * (1.0 - hs[i] * hs[i])
        gxh += local * xs[i - 1]
        ghh += local * hs[i - 1]
        gb += local
        back = local * theta_hh
    return {"loss": 0.5 * diff * diff, "theta_xh": gxh, "theta_hh": ghh, "theta_hy": diff * hs[n], "b_h": gb, "b_y": diff}


def sgd_step(params, grads, lr):
    return {name: value - lr * grads[name] for name, value in params.items()}


def rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    steps = x.shape[0]
    states = [h0]
    for t in range(steps):
        states.append(torch.tanh(torch.mm(x[t], W_ih.t()) + b_ih + torch.mm(states[t], W_hh.t()) + b_hh))
    outputs = [torch.mm(states[t], W_hy.t()) + b_y for t in range(1, steps + 1)]
    if mode == "many_to_many":
        errs = [outputs[t] - targets[t] for t in range(steps)]
        scored = list(range(1, steps + 1))
    elif mode == "many_to_one":
        errs = [torch.zeros_like(o) for o in outputs[:-1]] + [outputs[-1] - targets]
        scored = [steps]
    else:
        raise ValueError(mode)
    loss = torch.stack([(e * e).sum() for e in errs]).sum() * 0.5

    g = {
        "W_ih": torch.zeros_like(W_ih),
        "W_hh": torch.zeros_like(W_hh),
        "b_ih": torch.zeros_like(b_ih),
        "W_hy": torch.zeros_like(W_hy),
        "b_y": torch.zeros_like(b_y),
    }
    for t in range(steps):
        g["W_hy"] = g["W_hy"] + torch.mm(errs[t].t(), states[t + 1])
        g["b_y"] = g["b_y"] + errs[t].sum(0)

    def through_step(t, grad_h):
        """Add step t's terms for dL/dh_t = grad_h; return dL/dh_{t-1}."""
        grad_z = grad_h * (1 - states[t] ** 2)
        g["W_ih"] = g["W_ih"] + torch.mm(grad_z.t(), x[t - 1])
        g["W_hh"] = g["W_hh"] + torch.mm(grad_z.t(), states[t - 1])
        g["b_ih"] = g["b_ih"] + grad_z.sum(0)
        return torch.mm(grad_z, W_hh.t())  # back through the recurrent weight

    if truncate is None:
        grad_h = torch.zeros_like(h0)
        for t in range(steps, 0, -1):
            grad_h = through_step(t, grad_h + torch.mm(errs[t - 1], W_hy))
        g["h0"] = grad_h
    else:
        g["h0"] = torch.zeros_like(h0)
        for s in scored:
            grad_h = torch.mm(errs[s - 1], W_hy)
            for t in range(s, 0, -1):
                if s - t > truncate:
                    break
                grad_h = through_step(t, grad_h)
            else:
                if s <= truncate:
                    g["h0"] = g["h0"] + grad_h
    g["b_hh"] = g["b_ih"].clone()
    return loss, g


def clip_grad_norm(grads, max_norm):
    total_norm = torch.cat([g.reshape(-1) for g in grads.values()]).norm()
    coef = max_norm / (total_norm + 1e-6)
    if coef < 1:
        return {k: g * coef for k, g in grads.items()}, total_norm
    return {k: g.clone() for k, g in grads.items()}, total_norm
