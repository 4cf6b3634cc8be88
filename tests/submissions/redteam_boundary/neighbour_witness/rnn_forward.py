"""The Elman RNN forward pass.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)                             (1)
    y_t = h_t W_hy^T + b_y                                                            (2)

and the lecture's scalar RNN, whose weights are single numbers:

    h_t = tanh(theta_xh x_t + theta_hh h_{t-1} + b_h),   y_hat = theta_hy h_T + b_y   (3)

Sequences are time-major: x is (T, B, D). Weights follow PyTorch's layout: W_ih (H, D), W_hh (H, H).
"""

import math

import torch
from torch import Tensor


def rnn_cell(x: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One step of equation (1).

    x (B, D), h_prev (B, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,) -> h (B, H)
    """
    ### BEGIN SOLUTION
    h = torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h
    ### END SOLUTION


def rnn_forward(x: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """Equation (1) over a whole sequence, starting from h0.

    x (T, B, D), h0 (B, H) -> hs (T, B, H) holding h_1 .. h_T, h_last (B, H) == hs[-1]
    """
    ### BEGIN SOLUTION
    h = h0  # (B, H)
    hs = []
    for x_t in x:  # x_t (B, D)
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), h  # (T, B, H), (B, H)
    ### END SOLUTION


def linear_readout(h: Tensor, W_hy: Tensor, b_y: Tensor) -> Tensor:
    """Equation (2) for any leading shape.

    h (..., H), W_hy (O, H), b_y (O,) -> y (..., O)
    """
    ### BEGIN SOLUTION
    y = h @ W_hy.T + b_y
    return y
    ### END SOLUTION


def scalar_rnn(
    xs: list[float],
    theta_xh: float,
    theta_hh: float,
    theta_hy: float,
    b_h: float,
    b_y: float,
    h0: float = 0.0,
) -> tuple[float, list[float]]:
    """The lecture's scalar RNN, many-to-one, in plain Python floats.

    h_t = tanh(theta_xh * x_t + theta_hh * h_{t-1} + b_h),   y_hat = theta_hy * h_T + b_y
    Returns y_hat (float) and hs = [h_1, ..., h_T] (list of floats).
    """
    ### BEGIN SOLUTION
    h = h0
    hs = []
    for x_t in xs:
        h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)
        hs.append(h)
    y_hat = theta_hy * h + b_y
    return y_hat, hs
    ### END SOLUTION


# ---------------------------------------------------------------- red team, issue 11: what a later student finds

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402


def _observe() -> dict:
    """What this worker inherited and finds around it: all of it must be the same whoever was graded before."""
    limits = ("RLIMIT_FSIZE", "RLIMIT_AS", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_DATA", "RLIMIT_STACK")

    def listing(folder):
        try:
            return sorted(os.listdir(folder))
        except OSError as error:
            return f"{type(error).__name__}"

    try:
        with open("/proc/sysvipc/shm") as file:
            segments = len(file.read().splitlines()) - 1
    except OSError:
        segments = None
    return {
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "cpus": sorted(os.sched_getaffinity(0)),
        "scheduler": os.sched_getscheduler(0),
        "limits": {name: list(resource.getrlimit(getattr(resource, name))) for name in limits},
        "tmp": [name for name in listing("/tmp") if name.startswith("redteam")] if isinstance(listing("/tmp"), list) else listing("/tmp"),
        "dev_shm": listing("/dev/shm"),
        "mqueue": listing("/dev/mqueue"),
        "sysv_shm": segments,
        "processes": len([p for p in os.listdir("/proc") if p.isdigit()]),
    }


print("WITNESS", json.dumps(_observe(), sort_keys=True).encode().hex())
