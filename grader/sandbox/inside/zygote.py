"""The zygote: one process per sandbox that imports torch once and forks a fresh worker per rule set of a submission.

It is started by :mod:`grader.sandbox.zygote_client` (inside bubblewrap when available; as root, as an unprivileged
user that keeps only the capabilities of :data:`grader.sandbox.bubblewrap.ZYGOTE_CAPS`) and never sees a
submission: a forked child reads the sources from its own pipes, which the grader passes over the control socket
with each :class:`~.protocol.Fork`. Before it reads them, the child becomes a worker: as root, a user of its own
(not the zygote's) with no capability in any set, and everywhere no new privileges and the grader's system-call
filter (:func:`grader.sandbox.seccomp.worker_filter`). So no worker can signal or trace the zygote, change its
limits, priority, scheduling or CPUs (which later workers would inherit), create a user namespace or reach a
keyring. Should its own limits, nice value, scheduling or CPUs still differ from those it started with, the
zygote refuses to fork and asks to be replaced (:class:`~.protocol.Retire`). On :class:`~.protocol.Reap` the
zygote, acting as the workers' user, ends that child and, inside namespaces, every other process of the sandbox,
then wipes what a submission could leave behind for the next one: the scratch folder (the private ``/tmp``),
System V IPC objects and POSIX message queues. It is not dumpable, so no worker can read its memory or its
``/proc`` files; a worker that kills or stops it (where it is the same user) only makes the grader start a new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import inspect
import os
import re
import resource
import signal
import socket
import stat
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from grader.sandbox.inside import protocol, rules, wire
from grader.sandbox.inside.protocol import Fork, Forked, Reap, Reaped, Retire, ZygoteReady
from grader.sandbox.inside.worker import serve

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 24, 38
MADV_COLLAPSE, HUGE_PAGE = 25, 2 << 20
SECCOMP_MODE_FILTER, LINUX_CAPABILITY_VERSION_3 = 2, 0x20080522
IPC_RMID = 0
MQUEUE = Path("/dev/mqueue")
RLIMITS = {name: getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")}
libc = ctypes.CDLL(None, use_errno=True)
prctl = libc.prctl
prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SeccompProgram(ctypes.Structure):
    """The kernel's ``struct sock_fprog``."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def checked(result: int) -> None:
    """Raise the error of a libc call that did not return 0."""
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def die_with_parent() -> None:
    """Be killed when the process that started this one ends."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def become_user(uid: int) -> None:
    """In a new worker of a root grader: ``uid`` as every user and group id, no supplementary group, and no
    capability in any set, the bounding set included (the kernel keeps capabilities across a change from one
    non-root user to another: they are dropped here)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    for capability in range(int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1):
        checked(prctl(PR_CAPBSET_DROP, capability, 0, 0, 0))
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    checked(libc.capset(header, (ctypes.c_uint32 * 6)()))  # effective, permitted, inheritable; ambient follows


def confine(program: ctypes.Array[ctypes.c_char] | None) -> None:
    """In a new worker: no new privileges, ever, and the grader's system-call filter ``program``."""
    checked(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
    if program is not None:
        fprog = SeccompProgram(len(program) // 8, ctypes.addressof(program))
        checked(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0))


@contextlib.contextmanager
def acting_as(uid: int | None) -> Iterator[None]:
    """In the zygote: run the block with the workers' ``uid`` as effective user and group (None: they are this
    process's user), so that it may signal their processes and delete their files and IPC objects as they could
    themselves, without CAP_KILL or CAP_FOWNER. Its real and saved ids stay its own: no worker may signal it."""
    if uid is None:
        yield
        return
    os.setresgid(-1, uid, -1)
    os.setresuid(-1, uid, -1)
    try:
        yield
    finally:
        os.setresuid(-1, os.getuid(), -1)
        os.setresgid(-1, os.getgid(), -1)


def inheritance() -> dict[str, Any]:
    """What a worker inherits from the zygote and another process could change in it: resource limits, nice
    value, scheduling policy and priority, CPU affinity."""
    state: dict[str, Any] = {name: resource.getrlimit(number) for name, number in RLIMITS.items()}
    state["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
    state["scheduling"] = (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
    state["CPUs"] = os.sched_getaffinity(0)
    return state


def other_processes() -> list[int]:
    """The processes of this PID namespace other than its init and this one."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]


def kill_everything_else() -> bool:
    """Kill every process this one may signal in its PID namespace; True once none is left."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        reap_children()
        if not other_processes():
            return True
        time.sleep(0.002)
    return False


def reap_children() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def mounts_below(folder: Path) -> set[str]:
    """The mount points below ``folder`` and the folders leading to them (the Python environment is bound below
    ``/tmp`` when it lives there): they belong to the sandbox, not to a submission."""
    keep: set[str] = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal.group(1), 8)), line.split()[4]))
        if folder in point.parents:
            keep.update(str(p) for p in [point, *point.parents] if folder in p.parents)
    return keep


def remove(path: str, keep: set[str]) -> None:
    """Delete ``path`` and everything below it but ``keep``, making folders writable on the way (they belong to
    the workers' user, as which this runs); a kept folder is emptied of the rest, a mount point is not entered."""
    with contextlib.suppress(OSError):
        if path in keep:
            if not os.path.ismount(path):
                for entry in os.scandir(path):
                    remove(entry.path, keep)
        elif os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
            for entry in os.scandir(path):
                remove(entry.path, keep)
            os.rmdir(path)
        else:
            os.unlink(path)


def leftovers(folder: str, keep: set[str]) -> list[str]:
    """What is still below ``folder`` other than ``keep`` (mount points are not looked into)."""
    found = []
    for entry in os.scandir(folder):
        if entry.path not in keep:
            found.append(entry.path)
        elif not os.path.ismount(entry.path):
            found += leftovers(entry.path, keep)
    return found


def wipe(folder: Path, keep: set[str]) -> list[str]:
    """Empty ``folder`` but for ``keep``; what could not be removed."""
    for entry in os.scandir(folder):
        remove(entry.path, keep)
    return leftovers(str(folder), keep)


def ipc_objects() -> list[str]:
    """The System V IPC objects and POSIX message queues of this IPC namespace (its mqueue file system is
    mounted on ``/dev/mqueue``)."""
    found = [f"mqueue {name}" for name in os.listdir(MQUEUE)]
    for kind in ("shm", "sem", "msg"):
        found += [f"{kind} {line.split()[1]}" for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]]
    return found


def remove_ipc_objects() -> list[str]:
    """Delete every System V shared memory segment, semaphore set and message queue and every POSIX message
    queue of this IPC namespace; those still there."""
    for found in ipc_objects():
        kind, name = found.split(" ", 1)
        if kind == "mqueue":
            with contextlib.suppress(OSError):
                os.unlink(MQUEUE / name)
        elif kind == "sem":
            libc.semctl(int(name), 0, IPC_RMID)
        else:
            (libc.shmctl if kind == "shm" else libc.msgctl)(int(name), IPC_RMID, None)
    return ipc_objects()


class ZygoteServer:
    """Forks one worker at a time and cleans up after it."""

    def __init__(
        self,
        control: socket.socket,
        scratch: Path,
        mode: str,
        workers: int | None,
        program: bytes | None,
        threads: bytes | None,
    ) -> None:
        self.control = control
        self.scratch = scratch
        self.namespaces = mode == "namespaces"
        self.workers = workers
        self.program = None if program is None else ctypes.create_string_buffer(program, len(program))
        self.threads = None if threads is None else ctypes.create_string_buffer(threads, len(threads))
        self.child: int | None = None
        self.targets = rules.prepare()
        self.keep = mounts_below(scratch)
        self.inherited = inheritance()

    def refusal(self, fds: list[int]) -> Retire | None:
        """Why no worker may be forked now, or None."""
        if len(fds) != 3 or self.child is not None:
            return Retire(error="fork needs three descriptors and no running worker")
        now = inheritance()
        if changed := [name for name, value in self.inherited.items() if now[name] != value]:
            return Retire(error=f"the zygote's {', '.join(changed)} changed since it started")
        return None

    def fork(self, fds: list[int]) -> Forked | Retire:
        refusal = self.refusal(fds)
        if refusal is not None:
            for fd in fds:
                os.close(fd)
            return refusal
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self.become_worker(*fds)
        for fd in fds:
            os.close(fd)
        self.child = pid
        return Forked(pid=pid)

    def confine_threads(self) -> None:
        """In a worker whose gradients are off for good: no new thread (it would start with them on)."""
        if self.threads is not None:
            confine(self.threads)

    def become_worker(self, requests: int, replies: int, output: int) -> None:
        """In the child: drop the control socket and every privilege, print into ``output``, serve one
        submission's rule set, exit."""
        code = 0
        try:
            self.control.close()
            os.setsid()
            if self.workers is not None:
                become_user(self.workers)
            confine(self.program)
            die_with_parent()  # after the change of user, which clears it
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.close(output)
            serve(requests, replies, str(self.scratch), self.targets, self.confine_threads)
        except BaseException:  # the worker's own failures end it; the grader sees the exit code
            code = 70
        finally:
            os._exit(code)

    def reap(self, pid: int, grace: float) -> Reaped:
        """End the worker ``pid`` (after ``grace`` seconds for it to exit by itself) and everything it left."""
        with acting_as(self.workers):
            status, killed = self.end_child(grace) if pid == self.child else (None, False)
            left = self.clean()
        if left:
            return Reaped(status=status, clean=False, error="left behind: " + ", ".join(left), killed=killed)
        return Reaped(status=status, clean=True, killed=killed)

    def end_child(self, grace: float) -> tuple[int, bool]:
        """The worker's wait status, once it exited by itself within ``grace`` seconds or was killed, and whether it
        was killed here."""
        assert self.child is not None
        pid, status, deadline = self.child, None, time.monotonic() + grace
        while status is None and time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            status = raw if done else None
            if status is None:
                time.sleep(0.002)
        if status is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self.child = None
            return os.waitpid(pid, 0)[1], True
        self.child = None
        return status, False

    def clean(self) -> list[str]:
        """Remove whatever the workers left for the next one; what could not be removed."""
        left = []
        if self.namespaces and not kill_everything_else():
            left.append(f"processes {other_processes()}")
        reap_children()
        if files := wipe(self.scratch, self.keep):
            left.append(f"files {sorted(files)[:5]}")
        if self.namespaces and (objects := remove_ipc_objects()):
            left.append(f"IPC objects {objects[:5]}")
        return left

    def handle(self, packet: bytes, fds: list[int]) -> Forked | Retire | Reaped:
        """The answer to one control packet; a packet the zygote does not understand makes it ask to be replaced
        (only the grader holds the control socket, so that is the grader's bug, never a submission's)."""
        try:
            message = protocol.read(wire.unframe(packet), (Fork, Reap))
        except (wire.WireError, protocol.ProtocolError) as error:
            message = None
            refusal = Retire(error=f"a control message it cannot read: {error}")
        if isinstance(message, Fork):
            return self.fork(fds)
        for fd in fds:
            os.close(fd)
        if isinstance(message, Reap):
            try:
                return self.reap(message.pid, message.grace)
            except Exception as error:  # the grader replaces a zygote that cannot clean up
                return Reaped(status=None, clean=False, error=f"{type(error).__name__}: {error}")
        return refusal

    def run(self) -> None:
        self.control.send(protocol.frame(ZygoteReady()))
        while True:
            packet, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 3)
            if not packet:
                return
            self.control.send(protocol.frame(self.handle(packet, fds)))


def huge_page_spans() -> Iterator[int]:
    """The start of each whole huge page of this process's writable private memory that no file backs: the C heap
    and the anonymous mappings (Python's arenas, torch's allocations)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(address, 16) for address in fields[0].split("-"))
        if fields[1].startswith("rw") and fields[1][3] == "p" and fields[5:] in ([], ["[heap]"]):
            yield from range(-(-start // HUGE_PAGE) * HUGE_PAGE, end // HUGE_PAGE * HUGE_PAGE, HUGE_PAGE)


def use_huge_pages() -> None:
    """Back what the zygote wrote with huge pages where the kernel can (``MADV_COLLAPSE``, Linux 6.1 and later):
    a fork then copies one page-table entry per 2 MiB of it instead of 512, and a worker's exit frees as few,
    which halves what a worker's life costs the machine (a write splits only the huge page written to, in that
    worker alone). Asked page by page, since the kernel gives up on a range at some pages it cannot collapse;
    where it cannot at all, nothing changes."""
    for start in huge_page_spans():
        libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(HUGE_PAGE), MADV_COLLAPSE)


def warm_up() -> None:
    """Run, once, what every worker's first calls would otherwise set up again: torch's kernels for the small
    tensors and dtypes of the course, and the worker's own bookkeeping (a signature, a traceback)."""
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(3, 4, dtype=dtype)
        w = torch.randn(5, 4, dtype=dtype)
        y = torch.tanh(x @ w.T + 1.0)
        torch.sigmoid(y).sum(dim=-1)
        torch.softmax(y, dim=-1).max(dim=-1)
        torch.nn.functional.log_softmax(y, dim=-1).gather(1, torch.zeros(3, 1, dtype=torch.long))
        torch.stack([y, y]).transpose(0, 1).reshape(3, -1).clone().exp()
        y.masked_fill(y > 0, 0.0)
        torch.cat([x, x], dim=1).unsqueeze(0).squeeze(0).chunk(2, dim=1)
        torch.zeros_like(y).copy_(y).mul_(2.0).add_(y).isclose(y).all()
    inspect.signature(warm_up).bind()
    traceback.format_exception_only(ValueError, ValueError("warm"))


def main() -> None:
    """``zygote CONTROL_FD SCRATCH MODE WORKERS FILTER THREADS``: MODE is ``namespaces`` or ``process``; WORKERS the
    workers' uid, or ``-`` when they stay this process's user; FILTER their seccomp program in hex, THREADS the one
    that refuses new threads, each ``-`` when there is none."""
    control_fd, scratch, mode, workers, program, threads = sys.argv[1:7]
    sys.dont_write_bytecode = True
    torch.set_num_threads(1)
    with contextlib.suppress(ImportError):
        import numpy  # noqa: F401  (students use it; imported once here instead of once per submission)
    warm_up()
    zygote = ZygoteServer(
        socket.socket(fileno=int(control_fd)),
        Path(scratch),
        mode,
        None if workers == "-" else int(workers),
        None if program == "-" else bytes.fromhex(program),
        None if threads == "-" else bytes.fromhex(threads),
    )
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    gc.collect()
    gc.freeze()
    use_huge_pages()
    zygote.run()


if __name__ == "__main__":
    main()
