"""Hostile workers against the boundary's deadlines: a worker that stops reading its requests (through the sandbox,
with a request larger than its pipe), and through ``grader run`` a reply bomb and a slow import whose functions end
the worker. Each gets exactly its honest points and the grader finishes in bounded time."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import torch
from conftest import GRADER, ROOT

from grader.limits import Limits
from grader.sandbox.bubblewrap import bwrap_problem
from grader.sandbox.inside.protocol import CallFunction, Returned
from grader.sandbox.outcome import Status
from grader.sandbox.session import TIMEOUTS_BEFORE_GIVING_UP
from grader.sandbox.worker_client import WorkerClient

pytestmark = [
    pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs bubblewrap: {bwrap_problem()}"),
    pytest.mark.slow,
]

HONEST = (ROOT / "reference" / "rnn_forward.py").read_text()
JAM = '''
import fcntl, os, signal
import torch


def _jam(*_):
    """Shrink every pipe this process holds to one page, then stop: the grader's next request does not fit."""
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
        except OSError:
            pass
    os.kill(os.getpid(), signal.SIGSTOP)


def jam():
    signal.signal(signal.SIGALRM, _jam)
    signal.setitimer(signal.ITIMER_REAL, 0.01)  # once the reply is out and the worker waits for the next request
    return "jammed"


def total(x):
    return float(x.sum())
'''
BOMB = """

def linear_readout(h, W_hy, b_y):
    return [{} for _ in range(8_000_000)]
"""
SLOW_EXIT = """
import os, time

time.sleep(1.0)


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    os._exit(0)
"""


def graded(tmp_path: Path, source: str) -> dict[str, dict]:
    """``grader run`` on an rnn_forward.py of ``source``: the report's tasks by id (a hang fails the test)."""
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "rnn_forward.py").write_text(source)
    out = tmp_path / "report.json"
    run = subprocess.run(
        [*GRADER, "run", str(submission), "-a", "rnn_forward", "--time-limit", "3", "--format", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    (assignment,) = json.loads(out.read_text())["assignments"]
    return {task["id"]: task for task in assignment["tasks"]}


def messages(task: dict) -> list[str]:
    return [test["feedback"]["message"] for test in task["tests"] if test["feedback"]]


def test_a_worker_that_stops_reading_its_requests_times_out_instead_of_hanging_the_grader():
    """The worker shrinks its pipes to a page and stops once its reply is out: the grader's next request (1 MiB)
    cannot be written. Every write has the call's deadline (before, os.write blocked for ever), the worker is
    killed, and the next request gets a fresh one."""
    worker = WorkerClient({"jam": JAM}, {}, Limits())
    try:
        call = {"module": "jam", "cpu_seconds": 5.0, "watch": False}
        jam = worker.ask(CallFunction(**call, function="jam", args=[]), timeout=30.0)
        assert isinstance(jam.reply, Returned) and jam.reply.value == "jammed", jam
        time.sleep(0.2)
        big = torch.ones(1 << 17, dtype=torch.float64)
        assert worker.ask(CallFunction(**call, function="total", args=[big]), timeout=2.0).status is Status.TIMEOUT
        total = worker.ask(CallFunction(**call, function="total", args=[big]), timeout=30.0)
        assert isinstance(total.reply, Returned) and total.reply.value == 1 << 17, total
    finally:
        worker.close()


def test_a_reply_bomb_is_refused_while_it_is_decoded(tmp_path: Path):
    tasks = graded(tmp_path, HONEST + BOMB)
    assert tasks["readout"]["score"] == 0
    refused = messages(tasks["readout"])
    assert all("malformed reply" in m or "did not finish" in m or "was not run" in m for m in refused), refused
    assert tasks["forward"]["score"] == tasks["forward"]["max_score"]


def test_a_slow_import_whose_function_exits_is_given_up_on(tmp_path: Path):
    """Each exit costs a re-import; after TIMEOUTS_BEFORE_GIVING_UP of them the function is not called again."""
    tasks = graded(tmp_path, HONEST + SLOW_EXIT)
    ended = messages(tasks["cell"])
    assert sum("ended the worker process" in m for m in ended) == TIMEOUTS_BEFORE_GIVING_UP, ended
    assert all("ended the worker" in m for m in ended), ended
    assert tasks["scalar"]["score"] == tasks["scalar"]["max_score"]
