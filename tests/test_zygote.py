"""Warm workers: submissions forked from one zygote never see each other's files, processes, IPC or keys."""

from __future__ import annotations

import contextlib
import time

import pytest

from grader.limits import Limits
from grader.sandbox import ZYGOTES, Sandbox, WorkerDied, bwrap_problem

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs bubblewrap: {bwrap_problem()}")

SPY = '''
import ctypes, os, subprocess, sys, time

libc = ctypes.CDLL(None, use_errno=True)
KEYCTL = 250  # x86_64


def plant():
    """Leave everything a later submission could find."""
    with open("/tmp/secret.txt", "w") as f:
        f.write("answers of student A")
    os.makedirs("/tmp/locked/inner")
    open("/tmp/locked/inner/file", "w").close()
    os.chmod("/tmp/locked/inner", 0)
    os.chmod("/tmp/locked", 0o500)
    with open(__file__.replace("spy.py", "left_behind.py"), "w") as f:
        f.write("x = 1")
    segment = libc.shmget(0x5EC7E7, 4096, 0o1666)  # IPC_CREAT | 0666
    queue = libc.msgget(0x5EC7E8, 0o1666)
    key = libc.syscall(248, b"user", b"grader-spy", b"secret", 6, -4)  # add_key to the user keyring
    daemon = subprocess.Popen(
        [sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)"], start_new_session=True
    )
    return {"segment": segment, "queue": queue, "key": key, "daemon": daemon.pid}


def look():
    """What this submission can find of an earlier one."""
    found = {}
    found["tmp"] = sorted(os.listdir("/tmp"))
    found["submission"] = sorted(os.listdir(os.path.dirname(__file__)))
    found["shm"] = open("/proc/sysvipc/shm").read().splitlines()[1:]
    found["msg"] = open("/proc/sysvipc/msg").read().splitlines()[1:]
    found["processes"] = sorted(
        open(f"/proc/{p}/cmdline").read().replace("\\0", " ") for p in os.listdir("/proc") if p.isdigit()
        and int(p) not in (1, os.getpid(), os.getppid())
    )
    found["key"] = libc.syscall(249, b"user", b"grader-spy", None, 0)  # request_key: -1 when absent
    return found


def zygote_pid():
    return os.getppid()


def stop_zygote():
    os.kill(os.getppid(), 19)
    return "stopped"


def kill_zygote():
    os.kill(os.getppid(), 9)
    return "killed"
'''


def call(sandbox: Sandbox, function: str) -> object:
    reply = sandbox.request(
        {"op": "call", "module": "spy", "function": function, "args": [], "cpu_seconds": 10.0}, timeout=30.0
    )
    assert reply["ok"], reply
    return reply["value"]


def sandbox() -> Sandbox:
    return Sandbox({"spy": SPY}, {}, Limits())


def test_a_submission_finds_nothing_of_the_one_before() -> None:
    first = sandbox()
    before = call(first, "look")
    planted = call(first, "plant")
    assert all(value not in (-1, None) for value in planted.values()), planted
    zygote = first.zygote
    first.close()
    second = sandbox()
    found = call(second, "look")
    assert zygote is not None and second.zygote is zygote, f"the warm zygote was not reused: {zygote.retired}"
    second.close()
    assert found == before
    assert isinstance(found, dict) and "submission" in found["tmp"] and "secret.txt" not in found["tmp"]
    assert (found["submission"], found["shm"], found["msg"], found["processes"], found["key"]) == (
        ["spy.py"],
        [],
        [],
        [],
        -1,
    )


def test_a_worker_that_kills_its_zygote_costs_only_its_own_submission() -> None:
    hostile = sandbox()
    before = call(hostile, "zygote_pid")
    with contextlib.suppress(WorkerDied):  # its reply or its death, whichever comes first
        call(hostile, "kill_zygote")
    hostile.close()
    honest = sandbox()
    assert call(honest, "zygote_pid") == before  # the PID inside a fresh namespace: same number, new process
    assert honest.zygote is not None and honest.zygote.alive
    honest.close()


def test_a_worker_that_stops_its_zygote_costs_only_its_own_submission() -> None:
    hostile = sandbox()
    assert call(hostile, "stop_zygote") == "stopped"
    zygote = hostile.zygote
    start = time.monotonic()
    hostile.close()  # the zygote cannot clean up: it is replaced
    assert time.monotonic() - start < 30
    assert zygote is not None and not zygote.alive
    honest = sandbox()
    assert call(honest, "look")["processes"] == []
    honest.close()


def test_idle_zygotes_are_closed_with_the_pool() -> None:
    used = sandbox()
    call(used, "zygote_pid")
    zygote = used.zygote
    used.close()
    ZYGOTES.close()
    assert zygote is not None and not zygote.alive
