"""The trusted/untrusted boundary: start a worker on a submission's modules, send it calls, never trust it.

Each grading process keeps warm sandboxes (:class:`Zygote`): bubblewrap, when ``bwrap`` works here,
around a process that has imported torch once (:mod:`grader.zygote`): no network, its own PID, IPC
and UTS namespaces, a read-only view of only the system libraries and the Python installation, a
private ``/tmp``, and (when the grader runs as root) an unprivileged user of its own with no
capabilities. Every submission gets a fresh worker forked from it (:class:`Sandbox`), which receives
the submission's modules over its own pipes; when it ends, every process of the sandbox is killed and
``/tmp``, System V IPC and the user's keyrings are wiped before the next submission. Without
bubblewrap the zygote is still a separate process with the same resource limits and a clean
environment, and :class:`Isolation` says so. Every reply is size-capped and read as plain data
(:mod:`grader.wire`); every byte the worker prints is capped and stripped of terminal escapes before
anyone sees it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import resource
import select
import shutil
import signal
import socket
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
    probe = [path, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    result = subprocess.run(probe, capture_output=True, timeout=30)
    if result.returncode != 0:
        return f"bwrap cannot create namespaces here: {clean_text(result.stderr, 300).strip()}"
    return None


def namespace_flags() -> list[str]:
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
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
    the Python environment itself lives under /tmp), the system, Python and the worker's code."""
    args = [shutil.which("bwrap") or "bwrap", *namespace_flags(), "--tmpfs", "/"]
    args += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
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
        args += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
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
    if problem is None:
        user = (
            f"an unprivileged uid of its own, no capabilities, at most {limits.max_processes} processes"
            if os.geteuid() == 0
            else "user namespace (process count not capped: not run as root)"
        )
        return Isolation(
            level="bubblewrap",
            details=[
                "separate process, no network, own PID/IPC/UTS namespaces",
                "read-only system and Python, private /tmp, no view of tests or reference",
                user,
                "a fresh worker per submission, forked from one that imported torch; between submissions every "
                "process of the sandbox is killed and /tmp, System V IPC and keyrings are wiped",
                described,
            ],
        )
    return Isolation(
        level="process",
        details=[
            f"separate process without namespaces ({problem})",
            "the worker could read files the grader's user can read, and has network access",
            "a fresh worker per submission, forked from one that imported torch",
            described,
        ],
    )


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
        self.uid = 200000 + (os.getpid() % 100000) * 16 + next(_worker_serial) % 16
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
        bwrapped = self.isolation.level == "bubblewrap"
        mode = ("namespaces+uid" if os.geteuid() == 0 else "namespaces") if bwrapped else "process"
        package_parent = "/opt/grader" if bwrapped else str(PACKAGE_DIR.parent)
        boot = f"import sys; sys.path.insert(0, {package_parent!r}); from grader.zygote import main; main()"
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-I", "-c", boot, str(theirs.fileno()), "/tmp" if bwrapped else str(scratch), mode]
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
        """Ask the zygote; a zygote that does not answer sensibly in time is killed (SandboxError)."""
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
            wire.send(self.to_worker, {"sources": self.sources, "rules": self.rules, "max_processes": processes})
            reply = self._receive(time.monotonic() + self.limits.startup_seconds)
        except (WorkerTimeout, WorkerDied, wire.WireError, OSError) as error:
            self.kill()
            raise SandboxError(f"the worker did not start: {error}; its output: {self.printed()}") from error
        if reply.get("ready") is not True:
            self.kill()
            raise SandboxError(f"the worker answered {reply!r} instead of ready")

    def printed(self) -> str:
        """What the worker wrote to its stdout and stderr outside of calls, made safe and capped."""
        return clean_text(bytes(self.output), self.limits.max_output_bytes)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.from_worker], [], [], remaining)[0]:
                self.kill()
                raise WorkerTimeout("no answer in time")
            chunk = os.read(self.from_worker, min(left, 1 << 20))
            if not chunk:
                raise self._death()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _receive(self, deadline: float) -> dict[str, Any]:
        size = int.from_bytes(self._read(8, deadline), "big")
        if size > wire.MAX_FRAME:
            self.kill()
            raise wire.WireError(f"the worker sent a frame of {size} bytes")
        return wire.decode(self._read(size, deadline))

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
        """Send one request and wait at most ``timeout`` seconds for its reply."""
        if self.pid is None:
            self.start()
        try:
            wire.send(self.to_worker, message)
        except BrokenPipeError:
            raise self._death() from None
        return self._receive(time.monotonic() + timeout)

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
