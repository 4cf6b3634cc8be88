"""``grader batch`` end to end: a class with hostile submissions, re-runs, interruption, and a Dask cluster."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import GRADER, ROOT

from grader.batch.discover import discover, source_hash
from grader.batch.gradebook import Gradebook
from grader.batch.outcome import Outcome
from grader.batch.run import BatchSettings, run_dask, run_local
from grader.cli import main
from grader.spec import attempt_seed, default_course

REFERENCE = ROOT / "reference" / "rnn_forward.py"
REDTEAM = ROOT / "tests" / "submissions" / "redteam"


def good_class(folder: Path, students: int) -> Path:
    """``students`` correct rnn_forward submissions, every fifth one zipped."""
    folder.mkdir()
    for i in range(students):
        name = f"student{i:03d}"
        if i % 5 == 0:
            with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
                archive.write(REFERENCE, f"{name}/rnn_forward.py")
        else:
            (folder / name).mkdir()
            shutil.copy(REFERENCE, folder / name)
    return folder


OPTIONS = ("--assignment", "rnn_forward", "--time-limit", "1", "--jobs", "2")


def batch(folder: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [*GRADER, "batch", str(folder), "--db", str(db), *OPTIONS, *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def copy_gradebook(db: Path, to: Path) -> Path:
    """A consistent copy of the gradebook ``db`` at ``to`` (SQLite's backup, so its write-ahead log is in it)."""
    with contextlib.closing(sqlite3.connect(db)) as source, contextlib.closing(sqlite3.connect(to)) as target:
        source.backup(target)
    return to


def decision(db: Path, *args: str) -> str:
    """The line ``grader batch ARGS`` prints before it grades anyone ("N submissions, U unchanged since graded, G to
    grade ..."), given a copy of the gradebook ``db``; the batch is stopped there, so what to grade costs no grading
    (and whatever the stopped batch may have recorded is not kept)."""
    copy = copy_gradebook(db, db.with_name(f"{db.stem}-{os.getpid()}-{time.monotonic_ns()}{db.suffix}"))
    command = [*GRADER, "batch", *args, "--db", str(copy)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    output: list[str] = []
    stop = threading.Timer(120, os.killpg, (process.pid, signal.SIGKILL))  # a hang ends the batch: the test fails
    stop.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if " to grade" in line:
                return line
    finally:
        stop.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    raise AssertionError(f"grader batch exited {process.returncode} before it said what to grade:\n{''.join(output)}")


def kinds(outcome: Outcome) -> set[str]:
    assert outcome.report is not None
    return {t.feedback.kind for a in outcome.report.assignments for t in a.tests if t.feedback}


@pytest.mark.slow
def test_hostile_submissions_cost_only_their_own_grade(tmp_path: Path):
    folder = good_class(tmp_path / "class", 10)
    for name in ("infinite_loop", "memory_hog"):
        shutil.copytree(REDTEAM / name, folder / f"bad_{name}")
    (folder / "bad_crash").mkdir()
    (folder / "bad_crash" / "rnn_forward.py").write_text("import os\n\nos.abort()\n")
    (folder / "bad_archive.zip").write_bytes(b"PK\x03\x04 truncated")
    result = batch(folder, tmp_path / "gb.sqlite", "--summary", str(tmp_path / "summary.html"))
    assert result.returncode == 0, result.stderr
    with Gradebook(tmp_path / "gb.sqlite") as gradebook:
        outcomes = {o.student: o for o in gradebook.latest()}
    assert len(outcomes) == 10 + 4
    good = [o for name, o in outcomes.items() if name.startswith("student")]
    assert all(o.status == "graded" and o.percent == pytest.approx(100.0) for o in good)
    assert outcomes["bad_archive"].status == "error" and "not a readable archive" in (
        outcomes["bad_archive"].reason or ""
    )
    assert "timeout" in kinds(outcomes["bad_infinite_loop"])
    assert "resources" in kinds(outcomes["bad_memory_hog"])
    assert all(0 < outcomes[f"bad_{n}"].percent < 100 for n in ("infinite_loop", "memory_hog"))
    crash = outcomes["bad_crash"]
    assert crash.status == "graded" and crash.percent == 0 and kinds(crash) == {"import"}
    assert crash.report and "SIGABRT" in crash.report.assignments[0].tests[0].feedback.message
    assert "bad_archive" in (tmp_path / "summary.html").read_text()


@pytest.mark.slow
def test_unchanged_submissions_are_skipped_unless_regraded(tmp_path: Path):
    folder = good_class(tmp_path / "class", 2)
    db = tmp_path / "gb.sqlite"
    assert "2 to grade" in batch(folder, db).stdout
    assert "0 to grade" in batch(folder, db).stdout
    (folder / "student001" / "rnn_forward.py").write_text(REFERENCE.read_text() + "\n# changed\n")
    assert "1 to grade" in decision(db, str(folder), *OPTIONS)
    assert "2 to grade" in decision(db, str(folder), *OPTIONS, "--regrade")


def attempts(db: Path) -> int:
    """How many attempts the gradebook of a running batch holds: 0 until the batch has made its tables."""
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(db)) as connection:
            return connection.execute("select count(*) from attempts").fetchone()[0]
    except sqlite3.OperationalError:  # the file is there, its tables not yet
        return 0


def test_ctrl_c_keeps_what_was_graded(tmp_path: Path):
    folder = good_class(tmp_path / "class", 40)  # more than can be graded between two polls, even on a fast machine
    db = tmp_path / "gb.sqlite"
    process = subprocess.Popen(
        [*GRADER, "batch", str(folder), "--db", str(db), "--assignment", "rnn_forward", "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if attempts(db) >= 2:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    assert "interrupted" in output
    with Gradebook(db) as gradebook:
        kept = gradebook.latest()
    assert 2 <= len(kept) < 40
    assert all(o.status == "graded" for o in kept)


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a dead process its new parent has not reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="grading processes end with the batch on Linux")
def test_a_killed_batch_takes_its_grading_processes_with_it(tmp_path: Path):
    folder = good_class(tmp_path / "class", 40)
    db = tmp_path / "gb.sqlite"
    process = subprocess.Popen(
        [*GRADER, "batch", str(folder), "--db", str(db), "--assignment", "rnn_forward", "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and attempts(db) < 1:
        time.sleep(0.2)
    grading = [pid for pid in children(process.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert grading, "no grading process found"
    process.kill()
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(running(pid) for pid in grading):
        time.sleep(0.1)
    left = [pid for pid in grading if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "grading processes outlived the batch"


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_results(tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    folder = good_class(tmp_path / "class", 2)
    shutil.copytree(ROOT / "tests" / "submissions" / "typical", folder / "typical")
    work = [(entry, source_hash(entry, ["rnn_forward", "gated_cells"])) for entry in discover(folder)]
    seed = attempt_seed(default_course().spec.seed or "")  # one attempt, as the command draws for a batch
    settings = BatchSettings(expected=["rnn_forward", "gated_cells"], fingerprint="test", attempt_seed=seed)

    def graded(run) -> dict[str, list[tuple[str, float, str | None]]]:
        outcomes: list[Outcome] = []
        run(outcomes.append)
        return {
            o.student: [
                (t.name, t.score, t.feedback.render() if t.feedback else None)
                for a in o.report.assignments
                for t in a.tests
            ]
            for o in outcomes
            if o.report
        }

    local = graded(lambda keep: run_local(work, settings, 2, keep))
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"PYTHONPATH": os.pathsep.join(sys.path)},
    ) as cluster:
        remote = graded(lambda keep: run_dask(work, settings, cluster.scheduler_address, keep))
    assert remote == local
    assert set(local) == {"student000", "student001", "typical"}


def test_a_stray_file_is_skipped_and_a_class_nobody_of_which_can_be_graded_fails(tmp_path: Path):
    """A README beside the students' folders is no student; a batch in which no submission could be graded exits 2
    (no sandbox is started: the one student's folder holds none of the course's modules)."""
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / "notes.txt").write_text("nothing to grade")
    (folder / "README.txt").write_text("the class of 2026")
    run = batch(folder, tmp_path / "gradebook.sqlite")
    assert "README.txt: neither a folder nor an archive (.zip, .tar.gz); skipped" in run.stdout, run.stdout
    assert "1 submissions" in run.stdout
    assert run.returncode == 2, run.stderr
    assert "no submission could be graded" in run.stderr
    with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
        assert [(o.student, o.status) for o in gradebook.latest()] == [("alice", "error")]


def test_a_summary_without_matplotlib_fails_before_anyone_is_graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """--summary needs the instructor's extra: without matplotlib, exit 2 saying how to install it, and no gradebook."""
    folder = good_class(tmp_path / "class", 1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ModuleNotFoundError
    args = ["batch", str(folder), "--db", str(tmp_path / "gb.sqlite"), "--summary", str(tmp_path / "summary.html")]
    result = CliRunner().invoke(main, [*args, "--assignment", "rnn_forward", "--course", str(ROOT), "--jobs", "1"])
    assert result.exit_code == 2, result.output
    assert "grader batch needs matplotlib" in result.stderr and "pip install 'grader[instructor]'" in result.stderr
    assert not (tmp_path / "gb.sqlite").exists() and not (tmp_path / "summary.html").exists()
