"""The grader's side of a zygote: start it (in bubblewrap where it works), ask it to fork and reap workers, and
replace it when it fails or asks to be (:class:`ZygoteClient`); the idle zygotes of this process (:data:`ZYGOTES`)."""

from __future__ import annotations

import atexit
import contextlib
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

from grader.escape import clean_text
from grader.limits import Limits
from grader.sandbox.bubblewrap import PACKAGE_DIR, bwrap_command, clean_environment, isolation
from grader.sandbox.inside import protocol, wire
from grader.sandbox.inside.protocol import Fork, Forked, Reap, Reaped, Retire, ZygoteReady
from grader.sandbox.seccomp import filter_problem, thread_filter, worker_filter

_serial = itertools.count()


class SandboxError(Exception):
    """The worker could not be started or spoke nonsense before student code ran: never the student's fault."""


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


class ZygoteClient:
    """A warm sandbox: a zygote process that imported torch once and forks a fresh worker when asked."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.isolation = isolation(limits)
        self.uid = 0  # as root, the zygote's user; its workers' is the next (each start takes a fresh pair)
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.folder: Path | None = None
        self.output = bytearray()
        self.reaping: float | None = None
        """The deadline of a :meth:`reap_later` whose answer is still to be read."""
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
        self.uid = 200000 + (os.getpid() % 100000) * 32 + 2 * (next(_serial) % 16)
        bwrapped = self.isolation.level == "bubblewrap"
        workers = str(self.uid + 1) if bwrapped and os.geteuid() == 0 else "-"
        filters = [worker_filter(), thread_filter()] if filter_problem() is None else [None, None]
        package_parent = "/opt/grader" if bwrapped else str(PACKAGE_DIR.parent)
        boot = (
            f"import sys; sys.path.insert(0, {package_parent!r}); from grader.sandbox.inside.zygote import main; main()"
        )
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-I", "-c", boot, str(theirs.fileno()), "/tmp" if bwrapped else str(scratch)]
        command += ["namespaces" if bwrapped else "process", workers, *(f.hex() if f else "-" for f in filters)]
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
        self._answer(time.monotonic() + self.limits.startup_seconds, (ZygoteReady,))

    def fork(self, fds: list[int], timeout: float = 30.0) -> int:
        """A new worker's pid, its pipes ``fds`` handed over. A zygote that asks to be replaced (a worker changed
        what later workers would inherit from it) is, and its successor is asked."""
        reply = self._ask(Fork(), fds, timeout, (Forked, Retire))
        if isinstance(reply, Retire):
            self.kill(f"it asked to be replaced: {reply.error}")
            self.start()
            reply = self._ask(Fork(), fds, timeout, (Forked,))
        assert isinstance(reply, Forked)
        return reply.pid

    def reap(self, pid: int, grace: float) -> Reaped:
        """End worker ``pid`` after ``grace`` seconds and clean up after it; a zygote that could not clean up is
        killed (its successor starts clean)."""
        reply = self._ask(Reap(pid=pid, grace=grace), [], grace + 10.0, (Reaped,))
        assert isinstance(reply, Reaped)
        return self._cleaned(reply)

    def reap_later(self, pid: int) -> None:
        """End worker ``pid`` now and clean up after it while the grader goes on: the answer is read before the
        zygote's next request (nothing is forked before the cleaning is confirmed)."""
        self._ask(Reap(pid=pid, grace=0.0), [], 0.0, ())
        self.reaping = time.monotonic() + 10.0

    def _cleaned(self, reply: Reaped) -> Reaped:
        if not reply.clean:
            self.kill(f"it could not clean up after a worker: {reply.error}")
        return reply

    def _ask(
        self, message: Fork | Reap, fds: list[int], timeout: float, expected: tuple[type, ...]
    ) -> protocol.Control | None:
        """Send ``message`` (with ``fds``) and read the answer of a type in ``expected``; none is read when
        ``expected`` is empty (:meth:`reap_later`)."""
        if self.reaping is not None:
            deadline, self.reaping = self.reaping, None
            reaped = self._answer(deadline, (Reaped,))
            assert isinstance(reaped, Reaped)
            self._cleaned(reaped)
        if not self.alive or self.control is None:
            raise SandboxError("the worker's sandbox is gone")
        try:
            self.control.settimeout(timeout)  # a zygote that stops reading cannot hold the grader either
            socket.send_fds(self.control, [protocol.frame(message)], fds)
        except OSError as error:  # TimeoutError included
            self.kill(f"its control socket failed: {error}")
            raise SandboxError(f"the worker's sandbox is gone: {error}") from None
        return self._answer(time.monotonic() + timeout, expected) if expected else None

    def _answer(self, deadline: float, expected: tuple[type, ...]) -> protocol.Control:
        """The zygote's next packet, read by ``deadline`` and of a type in ``expected``; anything else kills it:
        :class:`SandboxError`, which is never a student's."""
        assert self.control is not None
        try:
            if not select.select([self.control], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise SandboxError("no answer in time")
            packet = self.control.recv(1 << 16)
            if not packet:
                raise SandboxError("it exited")
            return protocol.read(wire.unframe(packet, deadline), expected)
        except (SandboxError, wire.WireError, protocol.ProtocolError, TimeoutError, OSError) as error:
            self.kill(f"it failed: {error}")
            output = clean_text(bytes(self.output), self.limits.max_output_bytes)
            raise SandboxError(f"the worker's sandbox failed: {error}; its output: {output}") from None

    def kill(self, reason: str = "closed") -> None:
        """Stop the sandbox; ``reason`` is kept in :attr:`retired` for whoever wonders why it is gone."""
        self.retired = reason
        self.reaping = None
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
        self.idle: dict[str, list[ZygoteClient]] = {}
        self.lock = threading.Lock()
        atexit.register(self.close)

    def take(self, limits: Limits) -> ZygoteClient:
        with self.lock:
            idle = self.idle.get(limits.model_dump_json(), [])
            while idle:
                zygote = idle.pop()
                if zygote.alive:
                    return zygote
        return ZygoteClient(limits)

    def give_back(self, zygote: ZygoteClient) -> None:
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
