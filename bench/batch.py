"""Benchmark of ``grader batch``: N submissions of the full six-assignment module, graded with --jobs J.

The class mixes correct submissions, starters, submissions carrying a catalogued mistake, and one that
hangs; every student's files differ (a comment with their name), as a real class's do. The command runs
exactly as an instructor runs it (a new process, the gradebook). Prints submissions per second over the
whole command and once the grading processes are up, the time of the summary page, the per-submission time in a
grading process and how much of it is outside the tests, the peak memory of one process, and the time of
one cold ``grader run``. Figures, not assertions. Usage: ``.venv/bin/python bench/batch.py [-n 200] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from grader.batch.gradebook import Gradebook
from grader.batch.summary import write_summary
from grader.spec import default_course
from grader.starter import write_starter

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = ROOT / "tests" / "submissions" / "mistakes"
HANGS = ROOT / "tests" / "submissions" / "redteam" / "infinite_loop" / "rnn_forward.py"
MODULES = ("rnn_forward", "bptt", "gated_cells", "shapes", "taxonomy", "attention")
"""The six function assignments, as before the hands-on one (bench/name_classifier.py measures that one): a
student who hands none of it in costs the grader nothing for it."""


def make_class(folder: Path, n: int) -> None:
    """n students: a quarter starters, a quarter with one catalogued mistake, one hanging, the rest correct."""
    course = default_course()
    mistakes = sorted(p for p in MISTAKES.glob("*/*.py") if p.stem in MODULES)
    for i in range(n):
        student = folder / f"student{i:03d}"
        student.mkdir()
        for name in MODULES:
            (student / f"{name}.py").write_text(course.reference_module(name).read_text())
        if i == n // 2:
            (student / "rnn_forward.py").write_text(HANGS.read_text())
        elif i % 4 == 1:
            for name in MODULES:
                write_starter(course.reference_module(name), student)
        elif i % 4 == 2 and mistakes:
            mistake = mistakes[i % len(mistakes)]
            (student / mistake.name).write_text(mistake.read_text())
        for module in student.iterdir():
            module.write_text(module.read_text() + f"\n# handed in by student {i}\n")


def grading_span(db: Path) -> float:
    """Seconds from the first graded submission to the last, as the gradebook recorded them."""
    with sqlite3.connect(db) as connection:
        first, last = connection.execute("SELECT MIN(graded_at), MAX(graded_at) FROM attempts").fetchone()
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "class", Path(tmp) / "gradebook.sqlite"
        folder.mkdir()
        make_class(folder, args.n)
        command = [sys.executable, "-m", "grader", "batch", str(folder), "--jobs", str(args.jobs), "--db", str(db)]
        command += ["--time-limit", "2"]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        with Gradebook(db) as gradebook:
            outcomes = gradebook.latest()
        summary = time.perf_counter()
        write_summary(outcomes, Path(tmp) / "summary.html")
        summary = time.perf_counter() - summary
        span = grading_span(db)
        cold = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "run", str(folder / "student000"), "--format", "json"],
                       check=True, capture_output=True)
        cold = time.perf_counter() - cold
    reports = [o for o in outcomes if o.report]
    tests_time = [sum(t.duration for a in o.report.assignments for t in a.tests) for o in reports if o.report]
    overhead = [o.duration - t for o, t in zip(reports, tests_time, strict=True)]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    graded = sum(o.status == "graded" for o in outcomes)
    print(f"{args.n} submissions (6 assignments each), grader batch --jobs {args.jobs}: {elapsed:.1f} s, "
          f"{args.n / elapsed:.2f} submissions/s ({graded} graded, {args.n - graded} errors)")
    print(f"  once the grading processes are up (first to last graded): {(args.n - 1) / span:.2f} submissions/s")
    print(f"  per submission: {sum(o.duration for o in outcomes) / len(outcomes) * 1000:.0f} ms in a grading process, "
          f"of which {sum(overhead) / len(overhead) * 1000:.0f} ms outside the tests (worker fork, reading, scoring)")
    print(f"  peak memory of one process (grader, grading process or worker): {peak:.0f} MiB")
    print(f"  the summary page (--summary), written afterwards: {summary:.2f} s")
    print(f"  one cold grader run (one submission, a new process): {cold:.2f} s")


if __name__ == "__main__":
    main()
