"""Red team, issue 11: workers that stop reading their requests or stop answering, and ignore being asked to stop.

rnn_cell shrinks every pipe it holds to one page (F_SETPIPE_SZ) and sleeps; linear_readout closes every file
descriptor from 3 to 255 (its request and reply pipes among them) and sleeps; scalar_rnn ignores SIGTERM, SIGINT,
SIGHUP, SIGALRM and SIGXCPU and spins. rnn_forward is honest. The grader must time each of them out, give up on each after a few
tests, and finish.
"""

import fcntl
import os
import signal
import time

import torch

F_SETPIPE_SZ = 1031


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)
        except OSError:
            pass
    time.sleep(10**6)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Honest, and self-contained: it calls none of the hostile functions."""
    h, hs = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
    return torch.stack(hs), h


def linear_readout(h, W_hy, b_y):
    os.closerange(3, 256)
    time.sleep(10**6)


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGXCPU):
        signal.signal(number, signal.SIG_IGN)
    while True:
        pass
