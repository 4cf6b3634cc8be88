"""Hostile submissions, each a real folder graded by ``grader run``: they get exactly what their honest
code deserves, the grader finishes with a complete report, and nothing outside the worker changes."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import GRADER, ROOT

from grader.sandbox.bubblewrap import bwrap_problem
from grader.sandbox.session import TIMEOUTS_BEFORE_GIVING_UP

pytestmark = pytest.mark.slow  # every test here grades through the real command line

REDTEAM = ROOT / "tests" / "submissions" / "redteam"
SECRET = "redteam-secret-7f3a"
ALL = {"cell", "forward", "readout", "scalar"}
# the tasks of rnn_forward each submission's honest code passes
EARNED = {
    "patch_comparisons": {"cell", "forward", "readout"},
    "sys_exit": set(),
    "os_exit": {"readout", "scalar"},
    "find_hidden": set(),
    "fake_scores": set(),
    "infinite_loop": {"cell", "forward", "scalar"},
    "memory_hog": {"cell", "forward", "scalar"},
    "network": {"cell", "forward", "readout"},
}
NEEDS_NAMESPACES = {"find_hidden", "network"}


def tree_digest(*folders: Path) -> str:
    """One hash over the names and contents of every file below ``folders``."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


class Listener:
    """A TCP server on the host's loopback that counts who connects."""

    def __init__(self, port: int) -> None:
        self.server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.server.settimeout(0.2)
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                self.server.accept()[0].close()
                self.connections += 1
            except TimeoutError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()


@pytest.mark.parametrize("name", sorted(EARNED))
def test_hostile_submission_gets_what_its_honest_code_deserves(name: str, tmp_path: Path):
    if name in NEEDS_NAMESPACES and bwrap_problem():
        pytest.skip(f"needs bubblewrap's namespaces: {bwrap_problem()}")
    submission = REDTEAM / name
    protected = (ROOT / "assignments", ROOT / "reference", submission)
    before = tree_digest(*protected)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    canary = Path(tempfile.gettempdir()) / f"redteam-canary-{os.getpid()}"
    canary.write_text("untouched")
    listener = Listener(47613) if name == "network" else None
    out = tmp_path / "report.json"
    env = {**os.environ, "GRADER_REDTEAM_SECRET": SECRET, "TMPDIR": str(private_tmp)}
    try:
        run = subprocess.run(
            [*GRADER, "run", str(submission), "-a", "rnn_forward", "--time-limit", "2", "--format", "json", "-o", out],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    finally:
        if listener:
            listener.close()
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    (assignment,) = report["assignments"]
    assert assignment["name"] == "rnn_forward" and assignment["error"] is None
    scores = {task["id"]: task for task in assignment["tasks"]}
    assert set(scores) == ALL, "the report must list every task"
    for task, result in scores.items():
        expected = result["max_score"] if task in EARNED[name] else 0.0
        assert result["score"] == pytest.approx(expected), (task, [t["feedback"] for t in result["tests"]][:2])
        assert len(result["tests"]) > 0
    assert report["score"] == pytest.approx(sum(scores[t]["max_score"] for t in EARNED[name]))
    if name == "infinite_loop":  # two time limits are spent on the endless loop, then its calls fail at once
        messages = [t["feedback"]["message"] for t in scores["readout"]["tests"] if t["feedback"]]
        assert sum("did not finish within" in m for m in messages) == TIMEOUTS_BEFORE_GIVING_UP, messages
        assert all("did not finish within" in m or "was not run" in m for m in messages), messages
    assert SECRET not in out.read_text() + run.stdout + run.stderr
    assert "\x1b" not in out.read_text()
    assert tree_digest(*protected) == before
    assert canary.read_text() == "untouched"
    assert not list(private_tmp.iterdir()), "a worker's temp dir was left behind"
    if listener:
        assert listener.connections == 0, "the worker reached the host's network"
    canary.unlink()


def test_fake_scores_are_only_shown_as_the_students_output(tmp_path: Path):
    out = tmp_path / "report.json"
    subprocess.run(
        [*GRADER, "run", str(REDTEAM / "fake_scores"), "-a", "rnn_forward", "--format", "json", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    report = json.loads(out.read_text())
    printed = report["assignments"][0]["student_output"]
    assert "Score: 10/10" in printed and len(printed) < 10_000
    assert report["score"] == 0
    assert any("wrote to the terminal directly" in note for note in report["notes"])
