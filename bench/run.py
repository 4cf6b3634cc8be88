"""Benchmark of ``grader run`` on the reference submission of the six function assignments (the hands-on
``name_classifier``, which trains a model, has its own: ``bench/name_classifier.py``).

Prints the wall time of one cold ``grader run`` (a new process, as a student or TA starts it), how much
of it is process start-up and ``import torch`` (measured on their own, in the grader process and in a
sandboxed worker), and what is left for grading. Figures, not assertions: the machine is shared.
Usage: ``.venv/bin/python bench/run.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.limits import Limits
from grader.sandbox.worker_client import WorkerClient
from grader.sandbox.zygote_client import ZYGOTES

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("rnn_forward", "bptt", "gated_cells", "shapes", "taxonomy", "attention")


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def worker_start() -> tuple[float, float]:
    """Seconds to start a sandbox with torch imported (cold), then to fork a fresh worker from it (warm)."""
    ZYGOTES.close()
    times = []
    for _ in range(2):
        sandbox = WorkerClient({}, {}, Limits())
        start = time.perf_counter()
        sandbox.start()
        times.append(time.perf_counter() - start)
        sandbox.close()
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as folder:
        for name in MODULES:
            shutil.copy(ROOT / "reference" / f"{name}.py", folder)
        run = [sys.executable, "-m", "grader", "run", folder, "--format", "json"]
        totals = [timed(run) for _ in range(repeat)]
    interpreter = [timed([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    grader_imports = [timed([sys.executable, "-c", "import torch, grader.cli"]) for _ in range(repeat)]
    workers, forks = zip(*(worker_start() for _ in range(repeat)), strict=True)
    total = statistics.median(totals)
    grader_start = statistics.median(grader_imports)
    worker = statistics.median(workers)
    startup = grader_start + worker
    print(f"grader run on the reference (6 assignments), median of {repeat}: {total:.2f} s")
    print(f"  python start-up alone:                  {statistics.median(interpreter):.2f} s")
    print(f"  grader process start + import torch:    {grader_start:.2f} s")
    print(f"  sandboxed worker start + import torch:  {worker:.2f} s")
    print(f"  a fresh worker forked from a warm one:  {statistics.median(forks) * 1000:.0f} ms (each later submission)")
    print(f"  start-up and torch imports, together:   {startup:.2f} s ({100 * startup / total:.0f}% of the run)")
    print(f"  grading itself (the rest):              {total - startup:.2f} s")


if __name__ == "__main__":
    main()
