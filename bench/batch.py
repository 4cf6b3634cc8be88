"""Benchmark of ``grader batch``: N submissions of the full six-assignment module, graded with --jobs J.

The class mixes correct submissions, starters, submissions carrying a catalogued mistake, and one that
hangs. Prints submissions per second, the per-submission overhead (the wall time of grading one
submission minus the time its tests spent), the peak memory of the grading processes and the time of one
cold ``grader run``. Figures, not assertions. Usage: ``.venv/bin/python bench/batch.py [-n 200] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.batch.discover import discover, source_hash
from grader.batch.outcome import Outcome
from grader.batch.run import BatchSettings, run_local
from grader.spec import default_course
from grader.starter import write_starter

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = ROOT / "tests" / "submissions" / "mistakes"


def make_class(folder: Path, n: int) -> None:
    """n students: a quarter starters, a quarter with one catalogued mistake, one hanging, the rest correct."""
    course = default_course()
    mistakes = sorted(MISTAKES.glob("*/*.py"))
    for i in range(n):
        student = folder / f"student{i:03d}"
        student.mkdir()
        for name in course.assignments:
            shutil.copy(course.reference_module(name), student)
        if i == n // 2:
            shutil.copy(ROOT / "tests" / "submissions" / "redteam" / "infinite_loop" / "rnn_forward.py", student)
        elif i % 4 == 1:
            for name in course.assignments:
                write_starter(course.reference_module(name), student)
        elif i % 4 == 2 and mistakes:
            shutil.copy(mistakes[i % len(mistakes)], student)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        make_class(folder, args.n)
        work = [(entry, source_hash(entry)) for entry in discover(folder)]
        outcomes: list[Outcome] = []
        start = time.perf_counter()
        run_local(work, BatchSettings(time_limit=2.0), args.jobs, outcomes.append)
        elapsed = time.perf_counter() - start
        cold = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "run", str(folder / "student000"), "--format", "json"],
                       check=True, capture_output=True)
        cold = time.perf_counter() - cold
    tests_time = [sum(t.duration for a in o.report.assignments for t in a.tests) for o in outcomes if o.report]
    overhead = [o.duration - t for o, t in zip([o for o in outcomes if o.report], tests_time, strict=True)]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    graded = sum(o.status == "graded" for o in outcomes)
    print(f"{args.n} submissions (6 assignments each), --jobs {args.jobs}: {elapsed:.1f} s, "
          f"{args.n / elapsed:.2f} submissions/s ({graded} graded, {args.n - graded} errors)")
    print(f"  per submission: {sum(o.duration for o in outcomes) / len(outcomes):.2f} s in a grading process, "
          f"of which {sum(overhead) / len(overhead):.2f} s outside the tests (worker start, import, pytest set-up)")
    print(f"  peak memory of one grading process or worker: {peak:.0f} MiB")
    print(f"  one cold grader run (one submission, a new process): {cold:.2f} s")


if __name__ == "__main__":
    main()
