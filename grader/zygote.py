"""The warm worker: one process per sandbox that imports torch once and forks a fresh worker per submission.

It is started by :mod:`grader.sandbox` (inside bubblewrap when available, already as the sandbox's
unprivileged user) and never sees a submission: a forked child reads the sources from its own pipes,
which the grader passes over the control socket with each ``fork`` request. On ``reap`` the zygote ends
that child and, inside namespaces, every other process of the sandbox, then wipes what a submission
could leave behind for the next one: the scratch folder (the private ``/tmp``), System V IPC objects,
and the keyrings of the sandbox's own user. It is not dumpable, so a child cannot ptrace it or read its
memory; a child that kills or stops it only makes the grader start a new one.

Control messages (:mod:`grader.wire` frames, one per packet): ``{"op": "fork"}`` with three file
descriptors (requests, replies, output) -> ``{"pid"}``; ``{"op": "reap", "pid", "grace"}`` ->
``{"status", "clean"}``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import re
import signal
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

import torch

from grader import wire
from grader.worker import Guards, serve

PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
IPC_RMID = 0
KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = 7, -4, -5
KEYCTL_SYSCALL = {"x86_64": 250, "aarch64": 219}
libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """Be killed when the process that started this one ends."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


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
    this user); a kept folder is emptied of the rest, a mount point is not entered."""
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


def remove_ipc_objects() -> None:
    """Delete the System V shared memory segments, semaphores and message queues of this IPC namespace."""
    for kind, delete in (("shm", libc.shmctl), ("sem", libc.semctl), ("msg", libc.msgctl)):
        with contextlib.suppress(OSError):
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
            for line in lines:
                identifier = int(line.split()[1])
                delete(identifier, 0, IPC_RMID) if kind == "sem" else delete(identifier, IPC_RMID, None)


def clear_keyrings() -> None:
    """Empty the user keyrings, which outlive processes and would carry data to the next submission."""
    number = KEYCTL_SYSCALL.get(os.uname().machine)
    if number is not None:
        for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
            libc.syscall(number, KEYCTL_CLEAR, keyring)


class Zygote:
    """Forks one worker at a time and cleans up after it."""

    def __init__(self, control: socket.socket, scratch: Path, mode: str) -> None:
        self.control = control
        self.scratch = scratch
        self.namespaces = mode in ("namespaces", "namespaces+uid")
        self.own_user = mode == "namespaces+uid"
        self.guards = Guards()
        self.guards.install()
        self.child: int | None = None
        self.keep = mounts_below(scratch)

    def fork(self, fds: list[int]) -> dict[str, Any]:
        if len(fds) != 3 or self.child is not None:
            return {"error": "fork needs three descriptors and no running worker"}
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self.become_worker(*fds)
        for fd in fds:
            os.close(fd)
        self.child = pid
        return {"pid": pid}

    def become_worker(self, requests: int, replies: int, output: int) -> None:
        """In the child: drop the control socket, print into ``output``, serve one submission, exit."""
        code = 0
        try:
            self.control.close()
            os.setsid()
            die_with_parent()
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.close(output)
            serve(requests, replies, str(self.scratch), self.guards)
        except BaseException:  # the worker's own failures end it; the grader sees the exit code
            code = 70
        finally:
            os._exit(code)

    def reap(self, pid: int, grace: float) -> dict[str, Any]:
        """End the worker ``pid`` (after ``grace`` seconds for it to exit by itself) and everything it left."""
        status = None
        if pid == self.child:
            deadline = time.monotonic() + grace
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
                status = os.waitpid(pid, 0)[1]
            self.child = None
        left = []
        if self.namespaces and not kill_everything_else():
            left.append(f"processes {other_processes()}")
        reap_children()
        if files := wipe(self.scratch, self.keep):
            left.append(f"files {sorted(files)[:5]}")
        if self.namespaces:
            remove_ipc_objects()
        if self.own_user:
            clear_keyrings()
        if left:
            return {"status": status, "clean": False, "error": "left behind: " + ", ".join(left)}
        return {"status": status, "clean": True}

    def handle(self, message: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        if message.get("op") == "fork":
            return self.fork(fds)
        for fd in fds:
            os.close(fd)
        if message.get("op") == "reap":
            try:
                return self.reap(int(message["pid"]), float(message.get("grace", 0.0)))
            except Exception as error:  # the grader replaces a zygote that cannot clean up
                return {"status": None, "clean": False, "error": f"{type(error).__name__}: {error}"}
        return {"error": f"unknown request {message.get('op')!r}"}

    def run(self) -> None:
        self.control.send(wire.encode({"ready": True}))
        while True:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 3)
            if not data:
                return
            self.control.send(wire.encode(self.handle(wire.decode(data[8:]), fds)))


def main() -> None:
    """``zygote.py CONTROL_FD SCRATCH MODE``: MODE is ``namespaces+uid``, ``namespaces`` or ``process``."""
    control_fd, scratch, mode = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    sys.dont_write_bytecode = True
    torch.set_num_threads(1)
    with contextlib.suppress(ImportError):
        import numpy  # noqa: F401  (students use it; imported once here instead of once per submission)
    zygote = Zygote(socket.socket(fileno=control_fd), scratch, mode)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    gc.collect()
    gc.freeze()
    zygote.run()


if __name__ == "__main__":
    main()
