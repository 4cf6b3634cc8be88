"""Backpropagation through time, by hand.

The scalar RNN of the lecture's worked example (many-to-one):

    z_t = theta_xh x_t + theta_hh h_{t-1} + b_h,   h_t = tanh(z_t)        (1)
    y_hat = theta_hy h_T + b_y                                            (2)
    J = 1/2 (y_hat - y)^2                                                 (3)

and the vector RNN of rnn_forward with a linear readout:

    z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh,   h_t = tanh(z_t)    (8)
    y_t = h_t W_hy^T + b_y                                                (9)

Every derivative is worked out by hand, with the chain rule: torch.autograd, .backward(), requires_grad
and torch.func are not allowed here, nor torch.nn.RNN and its relatives. Sequences are time-major:
x is (T, B, D). Weights follow PyTorch's layout. No function modifies its arguments.
"""

import math

import torch
from torch import Tensor


def scalar_rnn_gradients(
    xs: list[float],
    y: float,
    theta_xh: float,
    theta_hh: float,
    theta_hy: float,
    b_h: float,
    b_y: float,
    h0: float = 0.0,
) -> dict[str, float]:
    """The loss (3) of the scalar RNN (1)-(2) and its derivatives, in plain Python floats.

    xs is the input sequence x_1 .. x_T and y the target of the last step.
    Returns {"loss": J, "theta_xh": dJ/dtheta_xh, "theta_hh": dJ/dtheta_hh, "theta_hy": dJ/dtheta_hy,
    "b_h": dJ/db_h, "b_y": dJ/db_y}, every value a float.
    """
    ### BEGIN SOLUTION
    # forward, keeping h_0 .. h_T
    hs = [h0]
    for x_t in xs:
        hs.append(math.tanh(theta_xh * x_t + theta_hh * hs[-1] + b_h))
    y_hat = theta_hy * hs[-1] + b_y
    loss = 0.5 * (y_hat - y) ** 2

    # backward
    d_y_hat = y_hat - y  # dJ/dy_hat
    d_theta_hy = d_y_hat * hs[-1]
    d_b_y = d_y_hat
    delta = d_y_hat * theta_hy  # dJ/dh_T
    d_theta_xh = d_theta_hh = d_b_h = 0.0
    for t in range(len(xs), 0, -1):
        d_z = delta * (1 - hs[t] ** 2)  # dJ/dz_t
        d_theta_xh += d_z * xs[t - 1]
        d_theta_hh += d_z * hs[t - 1]
        d_b_h += d_z
        delta = d_z * theta_hh  # dJ/dh_{t-1}
    return {
        "loss": loss,
        "theta_xh": d_theta_xh,
        "theta_hh": d_theta_hh,
        "theta_hy": d_theta_hy,
        "b_h": d_b_h,
        "b_y": d_b_y,
    }
    ### END SOLUTION


def sgd_step(params: dict, grads: dict, lr: float) -> dict:
    """One step of gradient descent: theta <- theta - lr * dJ/dtheta, for every key of params.

    Values are floats or tensors; grads holds at least params' keys. Returns a new dict;
    params and grads are left unchanged.
    """
    ### BEGIN SOLUTION
    return {name: params[name] - lr * grads[name] for name in params}
    ### END SOLUTION


def rnn_backward(
    x: Tensor,
    h0: Tensor,
    W_ih: Tensor,
    W_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    W_hy: Tensor,
    b_y: Tensor,
    targets: Tensor,
    mode: str = "many_to_many",
    truncate: int | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """The loss of the vector RNN (8)-(9) and its gradients by backpropagation through time.

    x (T, B, D), h0 (B, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,), W_hy (O, H), b_y (O,)
    mode "many_to_many": targets (T, B, O), loss = sum over t and b of 1/2 ||y_t - targets_t||^2
    mode "many_to_one":  targets (B, O),    loss = sum over b of 1/2 ||y_T - targets||^2
    truncate=k: each loss step s backpropagates through at most k recurrent steps: of the terms of
    loss step s through step t (t = 0 for h0), keep those with s - t <= k (eq. (14)). None: full BPTT.
    Returns loss (0-dim tensor) and grads {"W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h0"},
    each shaped like its parameter.
    """
    ### BEGIN SOLUTION
    if mode not in ("many_to_many", "many_to_one"):
        raise ValueError(f"mode must be 'many_to_many' or 'many_to_one', got {mode!r}")
    T = x.shape[0]

    # forward (8)-(9), keeping h_0 .. h_T
    hs = [h0]
    for x_t in x:  # x_t (B, D)
        hs.append(torch.tanh(x_t @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    h = torch.stack(hs)  # (T + 1, B, H), h[0] = h0
    y = h[1:] @ W_hy.T + b_y  # (T, B, O), y[t - 1] = y_t

    # dL/dy_t (10): y_t - target_t where step t carries a loss, 0 elsewhere
    if mode == "many_to_many":
        loss_steps = list(range(1, T + 1))
        d_y = y - targets  # (T, B, O)
    else:
        loss_steps = [T]
        d_y = torch.zeros_like(y)  # (T, B, O), zero before T
        d_y[-1] = y[-1] - targets
    loss = 0.5 * (d_y**2).sum()

    # the readout's gradients need no trip through time
    d_W_hy = d_y.flatten(0, 1).T @ h[1:].flatten(0, 1)  # sum over t and b of d_y^T h_t: (O, H)
    d_b_y = d_y.sum(dim=(0, 1))

    d_W_ih = torch.zeros_like(W_ih)
    d_W_hh = torch.zeros_like(W_hh)
    d_b_ih = torch.zeros_like(b_ih)
    d_b_hh = torch.zeros_like(b_hh)
    if truncate is None:
        # full BPTT in one backward sweep (11)-(13): delta_t = dL/dh_t gathers the losses at t and after t
        delta = torch.zeros_like(h0)  # nothing flows back from beyond step T
        for t in range(T, 0, -1):
            delta = delta + d_y[t - 1] @ W_hy  # dL/dh_t (B, H)
            d_z = delta * (1 - h[t] ** 2)  # dL/dz_t (B, H)
            d_W_ih = d_W_ih + d_z.T @ x[t - 1]
            d_W_hh = d_W_hh + d_z.T @ h[t - 1]
            d_b_ih = d_b_ih + d_z.sum(dim=0)
            d_b_hh = d_b_hh + d_z.sum(dim=0)
            delta = d_z @ W_hh  # the part of dL/dh_{t-1} that comes through h_t
        d_h0 = delta
    else:
        # truncated BPTT (14): each loss step s sends its own error back through steps s, s-1, ..., s-k only
        k = truncate
        d_h0 = torch.zeros_like(h0)
        for s in loss_steps:
            delta = d_y[s - 1] @ W_hy  # dL_s/dh_s (B, H)
            for t in range(s, max(s - k, 1) - 1, -1):
                d_z = delta * (1 - h[t] ** 2)  # dL_s/dz_t (B, H)
                d_W_ih = d_W_ih + d_z.T @ x[t - 1]
                d_W_hh = d_W_hh + d_z.T @ h[t - 1]
                d_b_ih = d_b_ih + d_z.sum(dim=0)
                d_b_hh = d_b_hh + d_z.sum(dim=0)
                delta = d_z @ W_hh  # dL_s/dh_{t-1}
            if s <= k:  # the window reaches back to h0 = h_0
                d_h0 = d_h0 + delta

    grads = {"W_ih": d_W_ih, "W_hh": d_W_hh, "b_ih": d_b_ih, "b_hh": d_b_hh, "W_hy": d_W_hy, "b_y": d_b_y, "h0": d_h0}
    return loss, grads
    ### END SOLUTION


def clip_grad_norm(grads: dict[str, Tensor], max_norm: float) -> tuple[dict[str, Tensor], Tensor]:
    """Scale all gradients together so that their global norm is at most max_norm.

    total_norm = sqrt(sum of squared entries over all tensors in grads); every tensor is multiplied
    by min(1, max_norm / (total_norm + 1e-6)). Returns clipped (a new dict of new tensors) and
    total_norm (0-dim tensor); grads is left unchanged.
    """
    ### BEGIN SOLUTION
    total_norm = torch.sqrt(sum((g**2).sum() for g in grads.values()))
    coefficient = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    clipped = {name: g * coefficient for name, g in grads.items()}
    return clipped, total_norm
    ### END SOLUTION
