"""Issue 12 through the real command line: what was expected is graded (a module not handed in scores 0, in every
format and the gradebook), the grader's own failures are never charged and are retried, and a changed course
regrades the class."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import GRADER, ROOT
from test_batch import copy_gradebook, decision
from test_redteam_cli_boundary import shared

from grader.batch.gradebook import Gradebook
from grader.sandbox.bubblewrap import bwrap_problem

pytestmark = pytest.mark.slow

REFERENCE = ROOT / "reference" / "rnn_forward.py"
COURSE_POINTS = 70


def grader(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, timeout=600, env=env)


def one_module(folder: Path) -> Path:
    """A correct rnn_forward.py and nothing else: 10 of the course's 60 points."""
    folder.mkdir(parents=True)
    shutil.copy(REFERENCE, folder)
    return folder


def test_one_module_scores_10_of_70_on_gradescope(tmp_path: Path):
    out = tmp_path / "results.json"
    run = grader("run", str(one_module(tmp_path / "s")), "--format", "gradescope", "-o", str(out))
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())
    assert results["score"] == 10
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(COURSE_POINTS)
    missing = [t for t in results["tests"] if "was not handed in" in t.get("output", "")]
    assert len(missing) == 6 and all(t["score"] == 0 for t in missing)
    assert "bptt.py was not handed in (nor bptt.ipynb)" in json.dumps(results)


def test_one_module_scores_10_of_70_in_the_csv_and_the_summary(tmp_path: Path):
    one_module(tmp_path / "class" / "alice")
    db, summary, grades = tmp_path / "gb.sqlite", tmp_path / "summary.html", tmp_path / "grades.csv"
    run = grader("batch", str(tmp_path / "class"), "--db", str(db), "--jobs", "1", "--summary", str(summary))
    assert run.returncode == 0, run.stderr
    assert grader("gradebook", "export", "--db", str(db), "--csv", str(grades)).returncode == 0
    (row,) = csv.DictReader(grades.open())
    assert (float(row["total"]), float(row["max"]), row["status"]) == (10, COURSE_POINTS, "graded"), row
    assert float(row["bptt"]) == 0
    assert "14.3%" in summary.read_text(), "the mean score is 10 of 70"


def test_a_misspelt_assignment_stops_the_batch_before_anyone_is_graded(tmp_path: Path):
    one_module(tmp_path / "class" / "alice")
    run = grader("batch", str(tmp_path / "class"), "--db", str(tmp_path / "gb.sqlite"), "-a", "rnn_forwrd")
    assert run.returncode == 2 and "rnn_forwrd" in run.stderr
    assert not (tmp_path / "gb.sqlite").exists() or not Gradebook(tmp_path / "gb.sqlite").latest()


@pytest.mark.skipif(bwrap_problem() is not None, reason="needs bubblewrap to break it")
def test_a_sandbox_failure_is_incomplete_not_counted_and_retried(tmp_path: Path):
    """bubblewrap that passes the grader's probe and then fails to start every sandbox: the student's attempt is
    incomplete (nothing counted), the batch exits 3 and lists it; the next batch, with bubblewrap back, grades it."""
    broken = tmp_path / "bin"
    broken.mkdir()
    fake = broken / "bwrap"
    real = shutil.which("bwrap")
    fake.write_text(f'#!/bin/sh\ncase "$*" in *" true") exec {real} "$@";; esac\necho "bwrap: broken" >&2\nexit 1\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    one_module(tmp_path / "class" / "alice")
    db, summary = tmp_path / "gb.sqlite", tmp_path / "summary.html"
    command = ["batch", str(tmp_path / "class"), "--db", str(db), "-a", "rnn_forward", "--summary", str(summary)]
    first = grader(*command, env={**os.environ, "PATH": f"{broken}:{os.environ['PATH']}"})
    assert first.returncode == 3, first.stdout + first.stderr
    with Gradebook(db) as gradebook:
        (alice,) = gradebook.latest()
    assert alice.status == "incomplete" and alice.report is not None
    assert alice.report.score == 0 and all(t.status == "error" for t in alice.report.assignments[0].tests)
    assert "incomplete" in summary.read_text() and "alice" in summary.read_text()
    second = grader(*command)
    assert second.returncode == 0 and "1 to grade" in second.stdout, second.stdout + second.stderr
    with Gradebook(db) as gradebook:
        (alice,) = gradebook.latest()
    assert alice.status == "graded" and alice.percent == pytest.approx(100)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A copy of the course, a class of two students each handing in a correct rnn_forward.py, and the gradebook of
    one ``grader batch`` of them with the course (two jobs, so two grading processes), made once for the session:
    a test copies what it changes."""

    def produce(folder: Path) -> list[str]:
        course, students, db = folder / "course", folder / "class", folder / "gb.sqlite"
        for part in ("assignments", "reference"):
            shutil.copytree(ROOT / part, course / part)
        for student in ("alice", "bob"):
            one_module(students / student)
        command = ["batch", str(students), "--db", str(db), "--course", str(course), "-a", "rnn_forward"]
        run = grader(*command, "--jobs", "2")
        assert run.returncode == 0 and "2 to grade with 2 jobs" in run.stdout, run.stdout + run.stderr
        return [str(course), str(students), str(db)]

    course, students, db = (Path(path) for path in shared("every_grade_class", tmp_path_factory, produce))
    return course, students, db


def test_a_changed_hidden_test_regrades_the_class(tmp_path: Path, graded_class):
    """The class graded, nobody is graded again; a changed hidden test, and on its own a changed point value, make
    the next batch regrade everyone (what each batch decides to grade: see test_batch.decision)."""
    graded_course, students, db = graded_class
    course = tmp_path / "course"
    shutil.copytree(graded_course, course)
    args = (str(students), "--course", str(course), "-a", "rnn_forward")
    assert "0 to grade" in decision(db, *args)
    hidden = course / "assignments" / "rnn_forward" / "tests" / "hidden" / "test_rnn_forward_hidden.py"
    original = hidden.read_text()
    hidden.write_text(original + "\n\n# a fixed hidden test\n")
    assert "2 to grade" in decision(db, *args), "a changed hidden test must regrade everyone"
    hidden.write_text(original)
    toml = course / "assignments" / "rnn_forward" / "assignment.toml"
    toml.write_text(toml.read_text().replace("points = 3", "points = 4", 1))
    assert "2 to grade" in decision(db, *args), "a changed point value must regrade everyone"


def test_a_batch_is_one_attempt_and_replays_with_its_seed(tmp_path: Path, graded_class):
    """Every student of a batch is graded on the same attempt, recorded in the gradebook; --attempt-seed replays it
    (a malformed one is refused before anyone is graded)."""
    course, students, graded = graded_class
    db = copy_gradebook(graded, tmp_path / "gb.sqlite")
    with Gradebook(db) as gradebook:
        seeds = {o.report.attempt_seed for o in gradebook.latest() if o.report}
    (seed,) = seeds
    assert seed and len(seed) == 32
    command = ["batch", str(students), "--db", str(db), "--course", str(course), "-a", "rnn_forward"]
    bad = grader(*command, "--regrade", "--attempt-seed", "not-hex")
    assert bad.returncode == 2 and "--attempt-seed" in bad.stderr
    replay = grader(*command, "--regrade", "--attempt-seed", seed)
    assert replay.returncode == 0 and "2 to grade" in replay.stdout, replay.stdout + replay.stderr
    with Gradebook(db) as gradebook:
        assert {o.report.attempt_seed for o in gradebook.latest() if o.report} == {seed}
