"""Red team of issue 11, "One student cannot touch another or stall the grader", through the real command line only
(``grader run`` and ``grader batch`` in fresh processes, ``grader gradebook export``): nothing of the grader is
imported here, so the sandbox can be rebuilt underneath without these tests changing. The hostile submissions are
in ``tests/submissions/redteam_boundary/`` (each folder's module says what it does). Invariants, not messages:

- a student graded after an attacker, in the same grading process and from the same warm sandbox, gets exactly
  the score it gets when graded alone, and finds the same world (limits, priority, CPUs, files, IPC, processes);
- a worker that stops reading, stops answering, ignores signals, floods its reply or ends itself at every call costs
  its own functions only, and the grader finishes in bounded time and memory;
- honest code that merely mentions forbidden names where they never run (a ``__main__`` self-check, a notebook's
  demo cell, a class of the student's own) keeps full marks;
- code that reaches autograd or torch's recurrent ops by any route never earns the points the honest reference
  earns for the tasks that route serves: through the static reading (the route written plainly) and through the
  run-time guards alone (the same route with torch reached through a name no reading can pin).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GRADER, ROOT

CASES = ROOT / "tests" / "submissions" / "redteam_boundary"
REFERENCE = ROOT / "reference"
MODULES = ("rnn_forward", "bptt", "gated_cells", "shapes", "taxonomy", "attention")
EXIT_CODES = {0, 1, 2}
"""0 graded, 1 below --fail-under, 2 unusable input; 3 (the course failed) is never a submission's doing."""
BOUND = 120.0
"""Seconds any one command may take here: a hang (or a stall the grader waits out) fails the test."""
PEAK_RSS_BOUND = 1536 << 20
"""Bytes of resident memory the grader's own process may reach, whatever a reply holds (torch alone is ~400 MB;
measured at 0.44 GB on the reply bomb, whose 96 MB tensor arrives in each of its tests)."""
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap: the warm sandbox")


# ----------------------------------------------------------------------------------------------------------------
# running the command line


def environment(tmp_path: Path) -> dict[str, str]:
    """No course or CI variable of the caller's, a private TMPDIR, no line wrapping."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "GITHUB_"))}
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return env | {"TMPDIR": str(scratch), "COLUMNS": "1000"}


@dataclass
class Run:
    """A finished command: exit code, output, wall time, and the peak resident memory of its own process (VmHWM,
    sampled every 50 ms; its children, the sandbox and the workers, are not counted)."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int

    def check(self, what: str, codes: set[int] = EXIT_CODES) -> Run:
        """Fail the test on an exit code outside ``codes`` or a Python traceback in the output (a crash)."""
        crashed = "Traceback (most recent call last)" in self.stdout + self.stderr
        assert self.code in codes and not crashed, f"{what} crashed (exit {self.code}):\n{self.stderr[-3000:]}"
        return self


def peak_rss(pid: int) -> int:
    """VmHWM of process ``pid`` in bytes; 0 once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) << 10
    return 0


def run_many(commands: dict[str, tuple[list[str], Path]], timeout: float = BOUND) -> dict[str, Run]:
    """Run the commands all at once, each in a session of its own with its output in files of its folder, and
    sample each one's peak memory until it ends. One still running after ``timeout`` seconds (a hang, or a stall the
    grader waits out) is killed with its whole group and fails the test."""
    started = {}
    try:
        for name, (args, folder) in commands.items():
            folder.mkdir(parents=True, exist_ok=True)
            out, err = (folder / "stdout.txt").open("wb"), (folder / "stderr.txt").open("wb")
            process = subprocess.Popen(args, env=environment(folder), stdout=out, stderr=err, start_new_session=True)
            started[name] = (process, out, err, time.monotonic())
        peaks, seconds = dict.fromkeys(started, 0), {}
        while len(seconds) < len(started):
            for name, (process, _, _, start) in started.items():
                if name in seconds:
                    continue
                peaks[name] = max(peaks[name], peak_rss(process.pid))
                if process.poll() is not None:
                    seconds[name] = time.monotonic() - start
                elif time.monotonic() - start > timeout:
                    pytest.fail(
                        f"{name} hung: {' '.join(commands[name][0][len(GRADER) :][:2])} still running after "
                        f"{timeout:.0f} s"
                    )
            time.sleep(0.05)
    finally:
        for process, out, err, _ in started.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            out.close()
            err.close()
    runs = {}
    for name, (process, _, _, _) in started.items():
        folder = commands[name][1]
        stdout = (folder / "stdout.txt").read_text(errors="replace")
        runs[name] = Run(
            process.returncode, stdout, (folder / "stderr.txt").read_text(errors="replace"), seconds[name], peaks[name]
        )
    return runs


def cli(args: list[str], folder: Path) -> Run:
    """Run one command (see :func:`run_many`), which must exit 0."""
    return run_many({"command": (args, folder)})["command"].check(" ".join(args[len(GRADER) : len(GRADER) + 2]), {0})


def run_command(submission: Path, report: Path, *args: str) -> list[str]:
    """``grader run SUBMISSION --format json -o REPORT ARGS``."""
    return [*GRADER, "run", str(submission), "--format", "json", "-o", str(report), *args]


def graded(run: Run, report: Path, what: str) -> dict[str, Any]:
    """The JSON report of a ``grader run`` that must have exited 0."""
    run.check(what, {0})
    return json.loads(report.read_text(encoding="utf-8"))


def assignments_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in report["assignments"]}


def tasks_of(report: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {task["id"]: task for task in assignments_of(report)[name]["tasks"]}


def full(item: dict[str, Any]) -> bool:
    """Whether a task or an assignment of a JSON report has all its points."""
    return item["max_score"] > 0 and item["score"] == pytest.approx(item["max_score"])


def messages(task: dict[str, Any]) -> list[str]:
    return [test["feedback"]["message"] for test in task["tests"] if test["feedback"]]


def kinds(task: dict[str, Any]) -> set[str]:
    return {test["feedback"]["kind"] for test in task["tests"] if test["feedback"]}


def batch(folder: Path, db: Path, tmp_path: Path, *args: str) -> Run:
    """``grader batch FOLDER --db DB ARGS``, which must exit 0."""
    return cli([*GRADER, "batch", str(folder), "--db", str(db), *args], tmp_path / f"batch{time.monotonic_ns()}")


def export(db: Path, tmp_path: Path) -> tuple[dict[str, dict[str, str]], Path]:
    """``grader gradebook export``: the CSV's rows by student, and the folder of feedback files (markdown)."""
    out = tmp_path / f"export{len(list(tmp_path.glob('export*')))}"
    out.mkdir()
    command = [*GRADER, "gradebook", "export", "--db", str(db), "--csv", str(out / "grades.csv")]
    cli([*command, "--feedback", str(out / "feedback")], out)
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return {row["student"]: row for row in csv.DictReader(file)}, out / "feedback"


def scores(row: dict[str, str]) -> dict[str, float]:
    """A CSV row's score columns (``<assignment>`` and ``<assignment>.<task>``, ``total``, ``max``) as numbers."""
    skip = {"student", "status", "reason", "percent"}
    return {key: float(value) for key, value in row.items() if key not in skip and value != ""}


def report_scores(report: dict[str, Any]) -> dict[str, float]:
    """A JSON report's scores, keyed as the CSV's columns."""
    found = {"total": report["score"], "max": report["max_score"]}
    for assignment in report["assignments"]:
        found[assignment["name"]] = assignment["score"]
        found.update({f"{assignment['name']}.{task['id']}": task["score"] for task in assignment["tasks"]})
    return found


def failure_kinds(db: Path) -> dict[tuple[str, str], set[str]]:
    """The feedback kinds of each student's failed tests, by (student, task), read from the gradebook's SQLite file
    for the failure messages only (an empty dict if its tables are not as they were)."""
    found: dict[tuple[str, str], set[str]] = {}
    query = (
        "SELECT a.student, r.task, r.kind FROM results r JOIN attempts a ON a.id = r.attempt "
        "WHERE r.kind IS NOT NULL AND a.id IN (SELECT MAX(id) FROM attempts GROUP BY student)"
    )
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(db)) as connection:
        for student, task, kind in connection.execute(query):
            found.setdefault((student, task), set()).add(kind)
    return found


def shared(name: str, tmp_path_factory: pytest.TempPathFactory, produce: Callable[[Path], Any]) -> Any:
    """``produce(folder)``, a JSON value, computed once for the whole session: under pytest-xdist the first worker
    to ask computes it while the others wait on a lock, then read it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return produce(tmp_path_factory.mktemp(name))
    from filelock import FileLock  # torch's own dependency

    root = tmp_path_factory.getbasetemp().parent
    with FileLock(str(root / f"{name}.lock")):
        cached = root / f"{name}.json"
        if not cached.exists():
            cached.write_text(json.dumps(produce(tmp_path_factory.mktemp(name))))
        return json.loads(cached.read_text())


def reference_student(folder: Path, student: str, *modules: str) -> Path:
    """The reference of each module copied into ``folder``, each file marked with the student's name (as every
    real student's files differ)."""
    folder.mkdir(parents=True)
    for module in modules or MODULES:
        source = (REFERENCE / f"{module}.py").read_text(encoding="utf-8")
        (folder / f"{module}.py").write_text(f"{source}\n# handed in by {student}\n", encoding="utf-8")
    return folder


# ----------------------------------------------------------------------------------------------------------------
# 1. a student cannot reach the students graded after it


VICTIMS = ("b_victim", "c_victim", "d_victim")
WITNESS = re.compile(r"WITNESS ([0-9a-f]+)")


def witnessed(text: str) -> list[dict[str, Any]]:
    """What the witness saw, each time it was imported."""
    return [json.loads(bytes.fromhex(found)) for found in WITNESS.findall(text)]


def neighbour_class(folder: Path) -> Path:
    """a_attacker (graded first: its attention.py, a module without rules, so that no static check stops its code
    from running), three victims handing in the six references, and e_witness, the references with an
    rnn_forward.py that prints what its worker inherited and finds."""
    shutil.copytree(CASES / "neighbour_attacker", folder / "a_attacker")
    for victim in VICTIMS:
        reference_student(folder / victim, victim)
    shutil.copytree(CASES / "neighbour_witness", folder / "e_witness")
    return folder


@pytest.fixture(scope="module")
def graded_alone(tmp_path_factory) -> dict[str, Any]:
    """A victim's and the witness's scores, and what the witness found, each graded alone (``grader run``, both at
    once). The victims hand in the same six references, so the one graded alone gives the score of each."""

    def produce(folder: Path) -> dict[str, Any]:
        students = neighbour_class(folder / "class")
        names = (VICTIMS[0], "e_witness")
        runs = run_many({s: (run_command(students / s, folder / s / "report.json"), folder / s) for s in names})
        found: dict[str, Any] = {}
        for student, run in runs.items():
            report = graded(run, folder / student / "report.json", f"grader run {student}")
            found[student] = report_scores(report)
            if student == "e_witness":
                found["seen"] = witnessed(assignments_of(report)["rnn_forward"]["student_output"])
        return found

    return shared("redteam_cli_alone", tmp_path_factory, produce)


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_an_attacker_graded_first_cannot_touch_the_students_after_it(tmp_path: Path, jobs: int, graded_alone):
    """a_attacker, graded first, tries at import and in its first call to reconfigure the warm zygote every later
    worker is forked from (its file size, memory, file and process limits, its CPU time, nice value, process group's
    and user's priority, CPUs, scheduler), to stop it and the sandbox's init, and to leave a POSIX message queue, a
    System V segment, files in /dev/shm, a full /tmp and a process that outlives it killing whatever it may. The
    victims after it get exactly their scores graded alone (full marks), the witness finds exactly what it finds
    alone, nothing hangs, and a second batch grades nothing and changes no score."""
    folder, db = neighbour_class(tmp_path / "class"), tmp_path / "gradebook.sqlite"
    first = batch(folder, db, tmp_path, "--jobs", str(jobs), "--time-limit", "5")
    assert "5 to grade" in first.stdout, first.stdout[-2000:]
    rows, feedback = export(db, tmp_path)
    assert set(rows) == {"a_attacker", *VICTIMS, "e_witness"}
    for student in (*VICTIMS, "e_witness"):
        alone = graded_alone[VICTIMS[0] if student in VICTIMS else student]
        assert rows[student]["status"] == "graded", (student, rows[student]["reason"])
        assert scores(rows[student]) == pytest.approx(alone), student
        assert (alone["total"], alone["max"]) == (60, 70), student  # six references of the seven modules
    attacker = (feedback / "a_attacker.md").read_text(encoding="utf-8")
    assert "attempts at import" in attacker and "attempts in a call" in attacker, "the attacker's code never ran"
    seen = witnessed((feedback / "e_witness.md").read_text(encoding="utf-8"))
    assert seen and seen == graded_alone["seen"], f"the witness found another world after the attacker: {seen}"
    assert "redteam" not in json.dumps(seen), f"the attacker's leftovers reached the witness: {seen}"

    again = batch(folder, db, tmp_path, "--jobs", str(jobs), "--time-limit", "5")
    assert "5 unchanged since graded" in again.stdout and "0 to grade" in again.stdout, again.stdout[-2000:]
    rows_again, _ = export(db, tmp_path)
    assert {s: scores(r) for s, r in rows_again.items()} == {s: scores(r) for s, r in rows.items()}


# ----------------------------------------------------------------------------------------------------------------
# 2.-4. workers that stall, flood or end themselves: bounded time and memory, charged to their own functions


HOSTILE = {
    "stalls": ("--time-limit", "2"),
    "reply_bomb": ("--time-limit", "3"),
    "slow_import_exit": ("--time-limit", "5"),
    "honest_self_checks": (),
}
"""The submissions of tests 2 to 5, and the options each is graded with."""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Any]:
    """``grader run`` of each of :data:`HOSTILE`, all at once (they spend most of their time waiting out their own
    deadlines): each run (exit code, output, seconds, peak memory) and its JSON report."""

    def produce(folder: Path) -> dict[str, Any]:
        commands = {
            case: (run_command(CASES / case, folder / case / "report.json", *args), folder / case)
            for case, args in HOSTILE.items()
        }
        runs = run_many(commands)
        found = {}
        for case, run in runs.items():
            report = folder / case / "report.json"
            found[case] = {"run": asdict(run), "report": json.loads(report.read_text()) if report.exists() else None}
        return found

    return shared("redteam_cli_hostile", tmp_path_factory, produce)


def hostile_run(hostile: dict[str, Any], case: str) -> tuple[Run, dict[str, Any]]:
    run = Run(**hostile[case]["run"]).check(f"grader run {case}", {0})
    print(f"{case}: {run.seconds:.1f} s, grader peak RSS {run.peak_rss / 2**20:.0f} MiB")
    return run, hostile[case]["report"]


@pytest.mark.slow
def test_workers_that_stop_reading_or_ignore_signals_time_out(hostile):
    """rnn_cell shrinks its pipes and sleeps, linear_readout closes every descriptor (its request and reply pipes
    among them) and sleeps, scalar_rnn ignores SIGTERM and spins: each is reported as a timeout, given up on after a
    few tests, and earns 0; the honest rnn_forward and gated_cells (in the same worker) earn all their points."""
    _, report = hostile_run(hostile, "stalls")
    tasks = tasks_of(report, "rnn_forward")
    for task in ("cell", "readout", "scalar"):
        assert tasks[task]["score"] == 0, task
        assert any("not run" in m for m in messages(tasks[task])), (task, messages(tasks[task]))
        assert kinds(tasks[task]) == {"timeout"}, (task, kinds(tasks[task]), messages(tasks[task])[:2])
    assert full(tasks["forward"]), messages(tasks["forward"])
    assert full(assignments_of(report)["gated_cells"])


@pytest.mark.slow
def test_a_reply_bomb_costs_its_task_and_not_the_graders_memory(hostile):
    """linear_readout returns 8 million empty dicts, scalar_rnn 5 million ints, rnn_cell a list nested 10,000
    deep, attention's additive_scores a 96 MB tensor (in every one of its tests, and it arrives: a shape error): each of
    those tasks earns 0 with a message, the honest functions and modules keep their points, and the grader's own
    process stays below :data:`PEAK_RSS_BOUND`."""
    run, report = hostile_run(hostile, "reply_bomb")
    bombs = {"rnn_forward": ("cell", "readout", "scalar"), "attention": ("additive",)}
    for name, broken in bombs.items():
        for task_id, task in tasks_of(report, name).items():
            if task_id in broken:
                assert task["score"] == 0, task_id
                assert all(t["feedback"] and t["feedback"]["message"] for t in task["tests"]), task_id
            else:
                assert full(task), (name, task_id, messages(task)[:2])
    assert full(assignments_of(report)["gated_cells"])
    assert "shape" in kinds(tasks_of(report, "attention")["additive"]), "the 96 MB reply never reached the grader"
    assert 0 < run.peak_rss < PEAK_RSS_BOUND, f"the grader reached {run.peak_rss / 2**20:.0f} MiB"


@pytest.mark.slow
def test_a_slow_import_whose_functions_end_the_worker_is_given_up_on(hostile):
    """Each function of shapes.py ends its worker, and each fresh worker spends 3 s importing the module: the grader
    stops calling each function after a few such tests (the rest say "was not run", with the kind timeout), so the
    run stays bounded; gated_cells, in the same submission, earns all its points."""
    _, report = hostile_run(hostile, "slow_import_exit")
    for task in tasks_of(report, "shapes").values():
        found = messages(task)
        ended = [m for m in found if "ended the worker process" in m]
        given_up = [t for t in task["tests"] if t["feedback"] and "was not run" in t["feedback"]["message"]]
        assert task["score"] == 0 and len(found) == len(task["tests"]), task["id"]
        assert 1 <= len(ended) <= 3, (task["id"], found)
        assert len(given_up) == len(task["tests"]) - len(ended) > 0, (task["id"], found)
        assert {t["feedback"]["kind"] for t in given_up} == {"timeout"}, task["id"]
    assert full(assignments_of(report)["gated_cells"])


@pytest.mark.slow
def test_honest_code_that_only_mentions_forbidden_names_keeps_full_marks(hostile):
    """rnn_forward.py: the reference with a ``__main__`` self-check against ``torch.nn.RNN(3, 4)``; bptt.ipynb: the
    reference's code, a ``__main__`` cell checking against ``torch.nn.RNN`` and ``.backward()``, and a demo cell of
    top-level calls building ``torch.nn.RNN(3, 4)`` (the grader drops both); gated_cells.py: the reference through a
    class of the student's own whose methods are named ``gru_cell``, ``lstm_cell`` and ``backward``. Full marks for
    each."""
    _, report = hostile_run(hostile, "honest_self_checks")
    found = assignments_of(report)
    for name in ("rnn_forward", "bptt", "gated_cells"):
        assignment = found[name]
        failed = {k for task in assignment["tasks"] for k in kinds(task)}
        assert full(assignment), (name, failed, [m for task in assignment["tasks"] for m in messages(task)][:3])


# ----------------------------------------------------------------------------------------------------------------
# 6. no route to autograd or to torch's recurrent ops earns points


ROUTE = re.compile(r"(# ROUTE\n)(.*?)(# END ROUTE)", re.S)
ATTACKED = {"bptt": {"rnn_backward"}, "gated_cells": {"gru_cell", "lstm_cell", "gru_forward", "lstm_forward"}}
"""The functions each attack module computes by the forbidden route."""


def disguised(source: str) -> str | None:
    """``source`` with ``torch.`` written ``_T.`` in its route (``_T = [torch][0]``: torch, as no reading can pin
    it), so that only the run-time guards stand in the route's way; None for a route that names no torch."""
    match = ROUTE.search(source)
    assert match, "an attack module without its # ROUTE ... # END ROUTE"
    if not re.search(r"\btorch\.", match.group(2)):
        return None
    return source[: match.start(2)] + re.sub(r"\btorch\.", "_T.", match.group(2)) + source[match.end(2) :]


def attacks() -> dict[str, tuple[str, str]]:
    """Every attack as ``<case>-<flavour>`` (written as a student would write it, or disguised): its module and
    source."""
    found = {}
    for case in sorted(CASES.glob("bptt_*")) + sorted(CASES.glob("gated_*")):
        module = "bptt" if case.name.startswith("bptt_") else "gated_cells"
        source = (case / f"{module}.py").read_text(encoding="utf-8")
        found[f"{case.name}-written"] = (module, source)
        hidden = disguised(source)
        if hidden is not None:
            found[f"{case.name}-disguised"] = (module, hidden)
    return found


ATTACKS = attacks()


def attacked_tasks(module: str) -> set[str]:
    """The tasks of ``module``'s assignment that a forbidden route serves (from its assignment.toml)."""
    spec = tomllib.loads((ROOT / "assignments" / module / "assignment.toml").read_text(encoding="utf-8"))
    return {task["id"] for task in spec["tasks"] if ATTACKED[module] & set(task["functions"])}


@pytest.fixture(scope="module")
def attacks_graded(tmp_path_factory) -> dict[str, Any]:
    """One ``grader batch`` of every attack (a student each) and two honest controls (the references of bptt and
    gated_cells): each student's score columns, and the kinds of its failed tests by task."""

    def produce(folder: Path) -> dict[str, Any]:
        students = folder / "class"
        for student, (module, source) in ATTACKS.items():
            (students / student).mkdir(parents=True)
            (students / student / f"{module}.py").write_text(source, encoding="utf-8")
        for module in ATTACKED:
            reference_student(students / f"control_{module}", f"control_{module}", module)
        db = folder / "gradebook.sqlite"
        args = ("--jobs", "2", "--time-limit", "5", "-a", "bptt", "-a", "gated_cells")
        batch(students, db, folder, *args)
        rows, _ = export(db, folder)
        found = failure_kinds(db)
        return {
            "scores": {student: scores(row) for student, row in rows.items()},
            "status": {student: f"{row['status']} {row['reason']}" for student, row in rows.items()},
            "kinds": {f"{s}.{t}": sorted(k) for (s, t), k in found.items()},
        }

    return shared("redteam_cli_attacks", tmp_path_factory, produce)


CHECK_ATTACKS = r"""
import contextlib, importlib.util, json, sys
import torch

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

def close(got, expected):
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(close(got[k], expected[k]) for k in got)
    if isinstance(expected, tuple | list):
        return len(got) == len(expected) and all(close(g, e) for g, e in zip(got, expected))
    return (got.shape == expected.shape and got.dtype == expected.dtype and not got.requires_grad
            and torch.allclose(got, expected, rtol=1e-4, atol=1e-4))

folder, cases = sys.argv[1], json.loads(sys.argv[2])
bptt, gated = load("ref_bptt", f"{folder}/bptt.py"), load("ref_gated_cells", f"{folder}/gated_cells.py")
rng = torch.Generator().manual_seed(11)

def r(*shape, dtype):
    return torch.randn(*shape, generator=rng, dtype=dtype)

def bptt_calls():
    # (T, B, D, H, O, dtype, mode, truncate): one step, both dtypes, both modes, full and truncated windows
    for T, B, D, H, O, dtype, mode, truncate in [
        (1, 1, 3, 4, 2, torch.float64, "many_to_many", None), (6, 3, 4, 2, 1, torch.float32, "many_to_one", 2),
        (8, 2, 3, 5, 2, torch.float64, "many_to_many", 0), (8, 2, 3, 5, 2, torch.float64, "many_to_many", 3),
        (5, 2, 2, 4, 3, torch.float64, "many_to_one", None), (8, 3, 4, 5, 2, torch.float64, "many_to_one", 20),
    ]:
        targets = r(T, B, O, dtype=dtype) if mode == "many_to_many" else r(B, O, dtype=dtype)
        weights = [r(H, D, dtype=dtype), r(H, H, dtype=dtype), r(H, dtype=dtype), r(H, dtype=dtype)]
        yield "rnn_backward", (r(T, B, D, dtype=dtype), r(B, H, dtype=dtype), *weights,
                               r(O, H, dtype=dtype), r(O, dtype=dtype), targets, mode, truncate)

def gated_calls():
    for T, B, D, H, dtype in [(1, 1, 3, 4, torch.float64), (5, 3, 2, 4, torch.float32)]:
        x, h, c = r(T, B, D, dtype=dtype), r(B, H, dtype=dtype), r(B, H, dtype=dtype)
        for cell, G in (("gru", 3), ("lstm", 4)):
            weights = (r(G * H, D, dtype=dtype), r(G * H, H, dtype=dtype), r(G * H, dtype=dtype), r(G * H, dtype=dtype))
            state = (h,) if cell == "gru" else (h, c)
            yield f"{cell}_cell", (x[0], *state, *weights)
            yield f"{cell}_forward", (x, *state, *weights)

verdicts = {}
for name, module, path in cases:  # the gc attacks last: they change the objects of this process
    try:
        attack = load(name.replace("-", "_"), path)
        reference, calls = (bptt, bptt_calls()) if module == "bptt" else (gated, gated_calls())
        for function, args in calls:
            with torch.no_grad() if module == "bptt" else contextlib.nullcontext():  # as the worker calls each
                got = getattr(attack, function)(*args)
            assert close(got, getattr(reference, function)(*args)), f"{function} is wrong on {len(args)} arguments"
        verdicts[name] = "right"
    except BaseException as error:
        verdicts[name] = f"{type(error).__name__}: {error}"
print(json.dumps(verdicts))
"""


@pytest.mark.slow
def test_every_attack_would_earn_full_marks_if_its_route_worked(tmp_path: Path):
    """Guards the red team: run in a plain process (no guard, no reading; a bptt function called under
    ``torch.no_grad()`` as the worker calls it), every attack, in both flavours, computes what the reference
    computes. So the points an attack does not earn in the grader are the route's being stopped, nothing else."""
    cases = []
    for student, (module, source) in sorted(ATTACKS.items(), key=lambda item: "gc_guards" in item[0]):
        path = tmp_path / f"{student}.py"
        path.write_text(source, encoding="utf-8")
        cases.append((student, module, str(path)))
    check = [sys.executable, "-c", CHECK_ATTACKS, str(REFERENCE), json.dumps(cases)]
    done = subprocess.run(check, capture_output=True, text=True, timeout=BOUND, env=environment(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    verdicts = json.loads(done.stdout.splitlines()[-1])
    assert {name: v for name, v in verdicts.items() if v != "right"} == {}


@pytest.mark.slow
def test_the_honest_controls_earn_full_marks(attacks_graded):
    for module in ATTACKED:
        found = attacks_graded["scores"][f"control_{module}"]
        assert found[module] == 10, (module, attacks_graded["status"][f"control_{module}"])


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_a_forbidden_route_earns_none_of_the_points_it_serves(student: str, attacks_graded):
    """The attack's tasks that the route serves score strictly below the honest reference's full marks; its other
    tasks (bptt's scalar, sgd and clipping: the reference's code) keep theirs, so the loss is the route's."""
    module = ATTACKS[student][0]
    found, control = attacks_graded["scores"][student], attacks_graded["scores"][f"control_{module}"]
    assert found, f"{student} was not graded: {attacks_graded['status'][student]}"
    served = attacked_tasks(module)
    earned, stopped_by = {}, set()
    for column, points in control.items():
        assignment, _, task = column.partition(".")
        if assignment == module and task in served:
            earned[task] = (found[column], points)
            stopped_by.update(attacks_graded["kinds"].get(f"{student}.{task}", []))
        elif assignment == module and task:
            assert found[column] == points, f"{student}: {column} lost points the route does not serve"
    got, possible = (sum(pair) for pair in zip(*earned.values(), strict=True))
    print(f"{student}: {got:g} of {possible:g} for the tasks it serves, failed tests' kinds {sorted(stopped_by)}")
    kept = {task: f"{got:g} of {points:g}" for task, (got, points) in earned.items() if got >= points}
    assert not kept, f"{student} earned the points of its forbidden route: {kept}"
