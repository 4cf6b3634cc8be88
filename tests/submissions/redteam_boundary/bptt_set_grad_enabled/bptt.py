"""Red team, issue 11: bptt.py with rnn_backward computed by autograd, reached through torch.set_grad_enabled(True).

The rest is the reference. Were this route allowed, the module would earn full marks: the gradients autograd
computes are the hand-derived ones. The code between ``# ROUTE`` and ``# END ROUTE`` is the route; the tests
also grade it with ``torch.`` rewritten ``_T.`` (torch as no reading can pin it), so that only the run-time
guards stand in its way. Every other piece reaches autograd as quietly as the red team could.
"""

import contextlib
import gc
import math
import types

import torch
from torch import Tensor

_T = [torch][0]
"""torch, as no reading of the source can tell: what is reached through ``_T`` is left to the run-time guards."""


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


def sgd_step(params: dict, grads: dict, lr: float) -> dict:
    """One step of gradient descent: theta <- theta - lr * dJ/dtheta, for every key of params.

    Values are floats or tensors; grads holds at least params' keys. Returns a new dict;
    params and grads are left unchanged.
    """
    ### BEGIN SOLUTION
    return {name: params[name] - lr * grads[name] for name in params}


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


NAMES = ("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h0")


def _loss(p: dict, x: Tensor, targets: Tensor, mode: str, truncate: int | None) -> Tensor:
    """rnn_backward's loss as a function of its parameters ``p``: differentiated, it gives rnn_backward's gradients.
    Every parameter may carry one leading batch dimension (then so does the loss). With ``truncate=k`` each loss
    step s is recomputed from the state before its window (a constant, detached), so its terms reach back k steps
    only; the window of a step s <= k starts at h0 itself."""
    W_ih, W_hh, b_ih, b_hh, W_hy, b_y, h0 = (p[name] for name in NAMES)
    steps = range(1, x.shape[0] + 1) if mode == "many_to_many" else [x.shape[0]]

    def step(h: Tensor, t: int) -> Tensor:  # h_t from h_{t-1}, t counted from 1
        return torch.tanh(x[t - 1] @ W_ih.mT + b_ih.unsqueeze(-2) + h @ W_hh.mT + b_hh.unsqueeze(-2))

    def term(h: Tensor, s: int) -> Tensor:
        y = h @ W_hy.mT + b_y.unsqueeze(-2)
        return 0.5 * ((y - (targets[s - 1] if mode == "many_to_many" else targets)) ** 2).sum((-2, -1))

    if truncate is None:
        hs = [h0]
        for t in range(1, x.shape[0] + 1):
            hs.append(step(hs[-1], t))
        return sum(term(hs[s], s) for s in steps)
    constant = [h0.detach()]
    for t in range(1, x.shape[0] + 1):
        constant.append(step(constant[-1], t).detach())
    total = 0.0
    for s in steps:
        start = max(s - truncate, 1)
        h = h0 if s <= truncate else constant[start - 1]
        for t in range(start, s + 1):
            h = step(h, t)
        total = total + term(h, s)
    return total


# ROUTE
def _grad_on():
    return torch.set_grad_enabled(True)
# END ROUTE


def _leaf(t: Tensor) -> Tensor:
    """A copy of ``t`` that autograd differentiates with respect to."""
    return _T._C.TensorBase.requires_grad_(t.detach().clone())


def _engine(loss: Tensor, leaves: list[Tensor]) -> list[Tensor | None]:
    """d loss / d leaf for each leaf, from autograd's engine itself."""
    engine = _T.autograd.variable.Variable._execution_engine
    return engine.run_backward((loss,), (_T.ones_like(loss),), False, False, tuple(leaves), True, False)


def _autograd(p: dict, f) -> tuple[Tensor, dict]:
    """f(p) and its gradient with respect to each tensor of p, by reverse-mode autograd."""
    leaves = {name: _leaf(value) for name, value in p.items()}
    with _grad_on():
        loss = f(leaves)
        grads = _engine(loss, list(leaves.values()))
    return loss, dict(zip(leaves, grads, strict=True))


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
    """The loss and its gradients, by autograd instead of by hand."""
    if mode not in ("many_to_many", "many_to_one"):
        raise ValueError(f"mode must be 'many_to_many' or 'many_to_one', got {mode!r}")
    p = dict(zip(NAMES, (W_ih, W_hh, b_ih, b_hh, W_hy, b_y, h0), strict=True))
    loss, grads = _autograd(p, lambda q: _loss(q, x, targets, mode, truncate))
    zero = {name: torch.zeros_like(value) for name, value in p.items()}
    return loss.detach(), {name: zero[name] if grads[name] is None else grads[name].detach().to(p[name].dtype) for name in NAMES}
