"""The system-call filters of workers, built here in the grader and installed by the zygote in each worker.

Classic BPF programs for seccomp's filter mode (x86_64 and aarch64), as bytes: :func:`worker_filter` for every
worker, :func:`thread_filter` stacked on it in a worker whose gradients are off for good.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import struct

CLONE_NEWUSER, CLONE_THREAD, PRIO_PROCESS, IOPRIO_WHO_PROCESS = 0x10000000, 0x00010000, 0, 1
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_ALLOW, SECCOMP_ERRNO = 0x7FFF0000, 0x00050000
BPF_LOAD, BPF_JEQ, BPF_JGE, BPF_JSET, BPF_RETURN = 0x20, 0x15, 0x35, 0x45, 0x06
MACHINES = {"x86_64": (0xC000003E, 0x40000000), "aarch64": (0xC00000B7, None)}  # AUDIT_ARCH, where another ABI starts
SYSCALLS = {  # what the filter looks at: the number on x86_64, on aarch64
    "clone": (56, 220),
    "clone3": (435, 435),
    "unshare": (272, 97),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "keyctl": (250, 219),
    "prlimit64": (302, 261),
    "sched_setparam": (142, 118),
    "sched_setscheduler": (144, 119),
    "sched_setaffinity": (203, 122),
    "sched_setattr": (314, 274),
    "setpriority": (141, 140),
    "ioprio_set": (251, 30),
}


def bpf(code: int, k: int, true: int = 0, false: int = 0) -> list[bytes]:
    """One classic BPF instruction (``true``/``false``: how many instructions a jump skips)."""
    return [struct.pack("=HBBI", code, true, false, k)]


def refuse(error: int = errno.EPERM) -> list[bytes]:
    return bpf(BPF_RETURN, SECCOMP_ERRNO | error)


def only_with(*values: int) -> list[bytes]:
    """Allow the call only when its first arguments are ``values`` (their low 32 bits: pids and selectors are ints
    to the kernel), else EPERM."""
    code = []
    for i, value in enumerate(values):
        code += bpf(BPF_LOAD, 16 + 8 * i) + bpf(BPF_JEQ, value, 0, 2 * (len(values) - i) - 1)
    return code + bpf(BPF_RETURN, SECCOMP_ALLOW) + refuse()


def without_flag(flag: int) -> list[bytes]:
    """Refuse the call (EPERM) when ``flag`` is set in its first argument."""
    return bpf(BPF_LOAD, 16) + bpf(BPF_JSET, flag, 0, 1) + refuse() + bpf(BPF_RETURN, SECCOMP_ALLOW)


def program(rules: dict[str, list[bytes]]) -> bytes | None:
    """A filter applying ``rules`` (a block of code per system call) on this machine's ABI, allowing every other
    call and refusing those of another ABI (x32, i386: ENOSYS); None for a machine it has no table for."""
    machine = os.uname().machine
    if machine not in MACHINES:
        return None
    arch, other_abi = MACHINES[machine]
    column = list(MACHINES).index(machine)
    code = bpf(BPF_LOAD, 4) + bpf(BPF_JEQ, arch, 1, 0) + refuse(errno.ENOSYS) + bpf(BPF_LOAD, 0)
    if other_abi is not None:
        code += bpf(BPF_JGE, other_abi, 0, 1) + refuse(errno.ENOSYS)
    for name, block in rules.items():
        code += bpf(BPF_JEQ, SYSCALLS[name][column], 0, len(block)) + block
    return b"".join(code + bpf(BPF_RETURN, SECCOMP_ALLOW))


@functools.cache
def worker_filter() -> bytes | None:
    """The seccomp program the zygote installs in every worker.

    A worker may change the limits, priority, scheduling and CPUs of itself only (pid 0), never of the zygote that
    later workers are forked from; it may create no user namespace (``clone3``, whose flags a filter cannot read,
    is ENOSYS so that libc falls back to ``clone``) and reach no keyring (keyrings outlive every process and are
    not namespaced). Every other system call is left to the kernel."""
    return program(
        {
            "clone3": refuse(errno.ENOSYS),
            "clone": without_flag(CLONE_NEWUSER),
            "unshare": without_flag(CLONE_NEWUSER),
            **{name: refuse() for name in ("add_key", "request_key", "keyctl")},
            **{name: only_with(0) for name in SYSCALLS if name.startswith(("prlimit", "sched_"))},
            "setpriority": only_with(PRIO_PROCESS, 0),
            "ioprio_set": only_with(IOPRIO_WHO_PROCESS, 0),
        }
    )


@functools.cache
def thread_filter() -> bytes | None:
    """Stacked on :func:`worker_filter` in a worker whose gradients are off for good: it starts no thread (torch's
    gradient mode is per thread, and a new thread's begins on). Processes it may still fork inherit the mode."""
    return program({"clone": without_flag(CLONE_THREAD)})


@functools.cache
def filter_problem() -> str | None:
    """Why workers cannot run under :func:`worker_filter` here, or None when they can (the kernel takes seccomp
    filters: installing none from a NULL pointer fails with EFAULT, not EINVAL)."""
    if worker_filter() is None:
        return f"no system-call table for {os.uname().machine}"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, None, 0, 0) == -1 and ctypes.get_errno() == errno.EFAULT:
        return None
    return f"the kernel takes no seccomp filter ({os.strerror(ctypes.get_errno())})"
