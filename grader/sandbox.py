"""The trusted/untrusted boundary: start a worker on a submission's modules, send it calls, never trust it.

Each grading process keeps warm sandboxes (:class:`Zygote`): bubblewrap, when ``bwrap`` works here,
around a process that has imported torch once (:mod:`grader.zygote`): no network, its own PID, IPC
and UTS namespaces, a read-only view of only the system libraries and the Python installation, a
private ``/tmp``, and (when the grader runs as root) an unprivileged user of its own. Every submission
gets a fresh worker forked from it (:class:`Sandbox`), which receives the submission's modules over its
own pipes and runs as yet another user (as root) without any capability, under a system-call filter
(:func:`worker_filter`): no worker can change what later workers inherit from the zygote. When it
ends, every process of the sandbox is killed and ``/tmp``, System V IPC and POSIX message queues are
wiped before the next submission; a zygote whose own limits or scheduling changed all the same asks to
be replaced, and :meth:`Zygote.request` replaces it. Without bubblewrap the zygote is still a separate
process with the same resource limits, filter and a clean environment, and :class:`Isolation` says
so. Every reply is size-capped and read as plain data
(:mod:`grader.wire`); every byte the worker prints is capped and stripped of terminal escapes before
anyone sees it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import functools
import itertools
import os
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from grader import wire
from grader.escape import safe_text
from grader.limits import Limits

PACKAGE_DIR = Path(__file__).resolve().parent
_worker_serial = itertools.count()


class Isolation(BaseModel):
    """How a worker was isolated, in words a report can print."""

    level: str
    details: list[str]

    def describe(self) -> str:
        return f"{self.level}: {'; '.join(self.details)}"


class SandboxError(Exception):
    """The worker could not be started or spoke nonsense before student code ran: never the student's fault."""


class WorkerTimeout(Exception):
    """The worker did not answer in time; it has been killed."""


class WorkerDied(Exception):
    """The worker exited while student code ran."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def clean_text(data: bytes | str, limit: int) -> str:
    """Untrusted output made safe to show (:func:`grader.escape.safe_text`: valid Unicode, no terminal escapes or
    control characters), cut to ``limit`` characters before any work is done on it."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    cut = len(text) - limit
    text = safe_text(text[:limit])
    return text if cut <= 0 else text + f"\n... ({cut} more characters cut)"


@functools.cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot be used here, or None when it works."""
    path = shutil.which("bwrap")
    if path is None:
        return "bwrap is not installed (apt-get install bubblewrap)"
    probe = [path, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    result = subprocess.run([*probe, "--mqueue", "/dev/mqueue", "true"], capture_output=True, timeout=30)
    if result.returncode != 0:
        return f"bwrap cannot create namespaces here: {clean_text(result.stderr, 300).strip()}"
    return None


@functools.cache
def bwrap_disables_userns() -> bool:
    """Whether bubblewrap can forbid user namespaces inside its own here (``--disable-userns``: bubblewrap 0.8, and
    a kernel that lets it)."""
    probe = [shutil.which("bwrap") or "bwrap", "--unshare-user", "--disable-userns", "--ro-bind", "/", "/", "true"]
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


def namespace_flags() -> list[str]:
    """As root, a worker cannot create a user namespace because of :func:`worker_filter`; without root, bubblewrap's
    own user namespace also forbids nested ones where it can."""
    user = [] if os.geteuid() == 0 else ["--unshare-user", *(["--disable-userns"] if bwrap_disables_userns() else [])]
    return [
        *user,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]


ZYGOTE_CAPS = ("setuid", "setgid", "setpcap")
"""What the zygote keeps as root: setuid/setgid to make each worker another user (and to act as it while cleaning
up: signalling and deleting what is the worker's needs no CAP_KILL or CAP_FOWNER then), setpcap only to empty the
worker's bounding set. Its workers have none of them."""
CLONE_NEWUSER, PRIO_PROCESS, IOPRIO_WHO_PROCESS = 0x10000000, 0, 1
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


@functools.cache
def worker_filter() -> bytes | None:
    """The seccomp program :mod:`grader.zygote` installs in every worker, or None for a machine it has no table for.

    A worker may change the limits, priority, scheduling and CPUs of itself only (pid 0), never of the zygote that
    later workers are forked from; it may create no user namespace (``clone3``, whose flags a filter cannot read,
    is ENOSYS so that libc falls back to ``clone``) and reach no keyring (keyrings outlive every process and are
    not namespaced). Every other system call is left to the kernel; those of another ABI (x32, i386) get ENOSYS."""
    machine = os.uname().machine
    if machine not in MACHINES:
        return None
    arch, other_abi = MACHINES[machine]
    column = list(MACHINES).index(machine)
    rules = {
        "clone3": refuse(errno.ENOSYS),
        "clone": without_flag(CLONE_NEWUSER),
        "unshare": without_flag(CLONE_NEWUSER),
        **{name: refuse() for name in ("add_key", "request_key", "keyctl")},
        **{name: only_with(0) for name in SYSCALLS if name.startswith(("prlimit", "sched_"))},
        "setpriority": only_with(PRIO_PROCESS, 0),
        "ioprio_set": only_with(IOPRIO_WHO_PROCESS, 0),
    }
    program = bpf(BPF_LOAD, 4) + bpf(BPF_JEQ, arch, 1, 0) + refuse(errno.ENOSYS) + bpf(BPF_LOAD, 0)
    if other_abi is not None:
        program += bpf(BPF_JGE, other_abi, 0, 1) + refuse(errno.ENOSYS)
    for name, block in rules.items():
        program += bpf(BPF_JEQ, SYSCALLS[name][column], 0, len(block)) + block
    return b"".join(program + bpf(BPF_RETURN, SECCOMP_ALLOW))


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


def bind_readonly(path: str) -> list[str]:
    """``--ro-bind path path`` with every ancestor created world-traversable (bwrap copies 0700 otherwise)."""
    parents = list(reversed(Path(path).parents))[1:]
    return [arg for parent in parents for arg in ("--perms", "0755", "--dir", str(parent))] + ["--ro-bind", path, path]


def python_roots() -> list[str]:
    """The folders the worker's Python needs: the installation and the environment holding torch."""
    roots = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    roots.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))))
    roots.add(sys.prefix)
    return sorted(r for r in roots if not any(r != o and r.startswith(o + os.sep) for o in roots))


def bwrap_command(uid: int, limits: Limits) -> list[str]:
    """bwrap's arguments: an empty root, then the private /tmp (first, so that binds below it stay visible when
    the Python environment itself lives under /tmp), the system, Python and the worker's code. As root the zygote
    runs as ``uid`` with only the capabilities it needs to make each worker another user (:data:`ZYGOTE_CAPS`)."""
    args = [shutil.which("bwrap") or "bwrap", *namespace_flags(), "--tmpfs", "/"]
    args += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    args += ["--mqueue", "/dev/mqueue"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "lib", "lib64", "sbin"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", etc, etc]
    for root in python_roots():
        if not root.startswith("/usr/"):
            args += bind_readonly(root)
    args += ["--perms", "0755", "--dir", "/opt/grader", "--ro-bind", str(PACKAGE_DIR), "/opt/grader/grader"]
    args += ["--chdir", "/tmp", "--hostname", "sandbox"]
    if os.geteuid() == 0:
        caps = "-all," + ",".join(f"+{cap}" for cap in ZYGOTE_CAPS)
        args += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            f"--inh-caps={caps}",
            f"--ambient-caps={caps}",
            f"--bounding-set={caps}",
            "--no-new-privs",
        ]
    return args


def clean_environment() -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's (no tokens, no keys)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }


def isolation(limits: Limits) -> Isolation:
    """How the workers of a sandbox with ``limits`` are isolated here."""
    mib = limits.memory_bytes >> 20
    described = (
        f"limits: {mib} MiB address space, CPU and wall time per test, files up to "
        f"{limits.max_file_bytes >> 20} MiB, output capped, clean environment"
    )
    problem = bwrap_problem()
    own_user = problem is None and os.geteuid() == 0
    fresh = (
        "a fresh worker per submission, forked from one that imported torch, which is replaced when its limits, "
        "priority, scheduling or CPUs are not those it started with"
    )
    if problem is None:
        user = (
            f"each worker an unprivileged uid of its own, not the zygote's, no capabilities, "
            f"at most {limits.max_processes} processes"
            if own_user
            else "one user namespace for the zygote and its workers (process count not capped: not run as root)"
        )
        return Isolation(
            level="bubblewrap",
            details=[
                "separate process, no network, own PID/IPC/UTS namespaces",
                "read-only system and Python, private /tmp, no view of tests or reference",
                user,
                filter_detail(own_user),
                f"{fresh}; between submissions every process of the sandbox is killed and /tmp, System V IPC and "
                "POSIX message queues are wiped",
                described,
            ],
        )
    return Isolation(
        level="process",
        details=[
            f"separate process without namespaces ({problem})",
            "the worker could read files the grader's user can read, and has network access",
            filter_detail(own_user),
            f"{fresh}; processes and IPC objects a worker leaves are not removed",
            described,
        ],
    )


def filter_detail(own_user: bool) -> str:
    """What :func:`worker_filter` holds here, in words; ``own_user``: workers are not the zygote's user."""
    problem = filter_problem()
    if problem is None:
        return (
            "a system-call filter: a worker changes the limits, priority, scheduling and CPUs of no other process, "
            "creates no user namespace and reaches no keyring"
        )
    zygote = "" if own_user else ", and change the zygote's limits, priority, scheduling and CPUs (it is replaced)"
    return f"no system-call filter ({problem}): a worker can create user namespaces and use keyrings{zygote}"


def drain(fd: int, into: bytearray, limit: int) -> threading.Thread:
    """A thread that reads ``fd`` to its end, keeping the first ``limit`` bytes in ``into``, then closes it."""

    def run() -> None:
        with open(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                room = limit - len(into)
                if room > 0:
                    into.extend(chunk[:room])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class Zygote:
    """A warm sandbox: a process that imported torch once and forks a fresh worker per submission."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.isolation = isolation(limits)
        self.uid = 0  # as root, the zygote's user; its workers' is the next (each start takes a fresh pair)
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.folder: Path | None = None
        self.output = bytearray()
        self.retired: str | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _set_limits(self) -> None:
        """Runs in the child before exec: limits inherited by bwrap, setpriv, the zygote and its workers."""
        for limit, value in (
            (resource.RLIMIT_AS, self.limits.memory_bytes),
            (resource.RLIMIT_FSIZE, self.limits.max_file_bytes),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NOFILE, 256),
        ):
            resource.setrlimit(limit, (value, value))

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        scratch = self.folder / "scratch"
        scratch.mkdir(mode=0o700)
        self.uid = 200000 + (os.getpid() % 100000) * 32 + 2 * (next(_worker_serial) % 16)
        bwrapped = self.isolation.level == "bubblewrap"
        workers = str(self.uid + 1) if bwrapped and os.geteuid() == 0 else "-"
        program = worker_filter() if filter_problem() is None else None
        package_parent = "/opt/grader" if bwrapped else str(PACKAGE_DIR.parent)
        boot = f"import sys; sys.path.insert(0, {package_parent!r}); from grader.zygote import main; main()"
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-I", "-c", boot, str(theirs.fileno()), "/tmp" if bwrapped else str(scratch)]
        command += ["namespaces" if bwrapped else "process", workers, program.hex() if program else "-"]
        if bwrapped:
            command = bwrap_command(self.uid, self.limits) + command
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(theirs.fileno(),),
                env=clean_environment(),
                cwd=self.folder,
                preexec_fn=self._set_limits,
                start_new_session=True,
            )
        except OSError as error:
            self.kill(f"it could not start: {error}")
            raise SandboxError(f"cannot start the worker: {error}") from error
        finally:
            theirs.close()
        assert self.process.stdout is not None
        drain(os.dup(self.process.stdout.fileno()), self.output, self.limits.max_output_bytes)
        self.process.stdout.close()
        reply = self._answer(time.monotonic() + self.limits.startup_seconds)
        if reply.get("ready") is not True:
            self.kill(f"it answered {reply!r} instead of ready")
            raise SandboxError(f"the worker answered {reply!r} instead of ready")

    def request(self, message: dict[str, Any], fds: list[int] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Ask the zygote; a zygote that does not answer sensibly in time is killed (SandboxError). One that asks to
        be replaced (a worker changed what later workers would inherit from it) is, and its successor is asked."""
        reply = self._ask(message, fds, timeout)
        if reply.get("retire") is True:
            self.kill(f"it asked to be replaced: {reply.get('error')}")
            self.start()
            reply = self._ask(message, fds, timeout)
        return reply

    def _ask(self, message: dict[str, Any], fds: list[int] | None, timeout: float) -> dict[str, Any]:
        if not self.alive or self.control is None:
            raise SandboxError("the worker's sandbox is gone")
        try:
            socket.send_fds(self.control, [wire.encode(message)], fds or [])
        except OSError as error:
            self.kill(f"its control socket failed: {error}")
            raise SandboxError(f"the worker's sandbox is gone: {error}") from None
        return self._answer(time.monotonic() + timeout)

    def _answer(self, deadline: float) -> dict[str, Any]:
        assert self.control is not None
        try:
            if not select.select([self.control], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise SandboxError("no answer in time")
            data = self.control.recv(1 << 16)
            if not data:
                raise SandboxError("it exited")
            return wire.decode(data[8:])
        except (SandboxError, wire.WireError, OSError) as error:
            self.kill(f"it failed: {error}")
            output = clean_text(bytes(self.output), self.limits.max_output_bytes)
            raise SandboxError(f"the worker's sandbox failed: {error}; its output: {output}") from None

    def kill(self, reason: str = "closed") -> None:
        """Stop the sandbox; ``reason`` is kept in :attr:`retired` for whoever wonders why it is gone."""
        self.retired = reason
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


class ZygotePool:
    """This process's idle zygotes, by limits; a sandbox takes one for a submission and gives it back."""

    def __init__(self) -> None:
        self.idle: dict[str, list[Zygote]] = {}
        self.lock = threading.Lock()
        atexit.register(self.close)

    def take(self, limits: Limits) -> Zygote:
        with self.lock:
            idle = self.idle.get(limits.model_dump_json(), [])
            while idle:
                zygote = idle.pop()
                if zygote.alive:
                    return zygote
        return Zygote(limits)

    def give_back(self, zygote: Zygote) -> None:
        if zygote.alive:
            with self.lock:
                self.idle.setdefault(zygote.limits.model_dump_json(), []).append(zygote)

    def close(self) -> None:
        with self.lock:
            for zygotes in self.idle.values():
                for zygote in zygotes:
                    zygote.kill()
            self.idle.clear()


ZYGOTES = ZygotePool()


class Sandbox:
    """One submission's worker, forked from a warm :class:`Zygote` of this process."""

    def __init__(self, sources: dict[str, str], rules: dict[str, dict[str, bool]], limits: Limits) -> None:
        self.sources = sources
        self.rules = rules
        self.limits = limits
        self.isolation = isolation(limits)
        self.zygote: Zygote | None = None
        self.pid: int | None = None
        self.output = bytearray()
        self.drainer: threading.Thread | None = None

    def start(self) -> None:
        self.zygote = ZYGOTES.take(self.limits)
        if not self.zygote.alive:
            self.zygote.start()
        to_worker_r, self.to_worker = os.pipe()
        os.set_blocking(self.to_worker, False)  # every write has the call's deadline (wire.write_all)
        self.from_worker, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        try:
            reply = self.zygote.request({"op": "fork"}, [to_worker_r, from_worker_w, output_w])
        finally:
            for fd in (to_worker_r, from_worker_w, output_w):
                os.close(fd)
        if not isinstance(reply.get("pid"), int):
            os.close(output_r)
            self.kill()
            raise SandboxError(f"the worker's sandbox could not fork a worker: {reply.get('error', reply)!r}")
        self.pid = reply["pid"]
        self.drainer = drain(output_r, self.output, self.limits.max_output_bytes)
        processes = self.limits.max_processes if self.isolation.level == "bubblewrap" and os.geteuid() == 0 else None
        try:
            setup = {"sources": self.sources, "rules": self.rules, "max_processes": processes}
            reply = self._exchange(setup, time.monotonic() + self.limits.startup_seconds)
        except (WorkerTimeout, WorkerDied, wire.WireError, OSError) as error:
            self.kill()
            raise SandboxError(f"the worker did not start: {error}; its output: {self.printed()}") from error
        if reply.get("ready") is not True:
            self.kill()
            raise SandboxError(f"the worker answered {reply!r} instead of ready")

    def printed(self) -> str:
        """What the worker wrote to its stdout and stderr outside of calls, made safe and capped."""
        return clean_text(bytes(self.output), self.limits.max_output_bytes)

    def _exchange(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        """Send ``message`` and read the reply, both by ``deadline`` (a worker that stops reading its requests or
        never answers is killed: :class:`WorkerTimeout`); its death while it runs is :class:`WorkerDied`."""
        try:
            wire.send(self.to_worker, message, deadline)
            return wire.receive(self.from_worker, deadline)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout("no answer in time") from None
        except (EOFError, BrokenPipeError):
            raise self._death() from None
        except wire.WireError:
            self.kill()
            raise

    def _death(self) -> WorkerDied:
        """Why the worker closed its channel: its exit status, after a few seconds' grace to exit by itself."""
        status = self.kill(grace=5.0)
        code = os.waitstatus_to_exitcode(status) if status is not None else -signal.SIGKILL
        number = -code if code < 0 else 0
        if number == signal.SIGXCPU:
            return WorkerDied("used more CPU time than the test allows", "timeout")
        if number == signal.SIGKILL:
            return WorkerDied("was killed by a resource limit (memory, processes or CPU time)", "resources")
        if number == signal.SIGXFSZ:
            return WorkerDied(f"wrote a file larger than {self.limits.max_file_bytes >> 20} MiB", "resources")
        if number:
            return WorkerDied(f"crashed with signal {signal.Signals(number).name}", "exception")
        return WorkerDied(f"ended the worker process (exit code {code}); a module must not exit", "exception")

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and have its reply within ``timeout`` seconds, writing and decoding included."""
        if self.pid is None:
            self.start()
        return self._exchange(message, time.monotonic() + timeout)

    def kill(self, grace: float = 0.0) -> int | None:
        """End the worker and everything it started; its wait status when the zygote could tell."""
        status = None
        if self.pid is not None and self.zygote is not None:
            try:
                reply = self.zygote.request({"op": "reap", "pid": self.pid, "grace": grace}, timeout=grace + 10.0)
                status = reply.get("status") if isinstance(reply.get("status"), int) else None
                if reply.get("clean") is not True:
                    self.zygote.kill(f"it could not clean up after a worker: {reply.get('error', 'unknown')}")
            except SandboxError:
                pass
        self.pid = None
        for fd in ("to_worker", "from_worker"):
            if hasattr(self, fd):
                with contextlib.suppress(OSError):
                    os.close(getattr(self, fd))
                delattr(self, fd)
        if self.drainer is not None:
            self.drainer.join(timeout=1.0)
            self.drainer = None
        return status

    def close(self) -> None:
        self.kill()
        if self.zygote is not None:
            ZYGOTES.give_back(self.zygote)
            self.zygote = None
