"""Benchmark of the hands-on assignment ``name_classifier``: what grading one submission costs, and how much the
quality test's accuracy moves with the seed.

Grades the reference's ``name_classifier.py`` in the sandbox (hidden tests, as ``grader run`` does, the model trained
by the submission's own ``train_step`` inside a worker) ``--repeat`` times in this process, and prints the CPU
seconds per submission of the whole process tree (the grader, bubblewrap, the zygote and its workers, counted once
they have exited), the wall time, the peak memory of the largest process, and the CPU of a fresh
``python -c "import torch"`` measured beside them. Then trains the reference with ``--seeds`` seeds, as
``grader calibrate`` does, and prints the accuracies' mean, spread and range against the thresholds in
assignment.toml. Figures, not assertions. Usage: ``.venv/bin/python bench/name_classifier.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.calibrate import measure
from grader.engine import grade_submission
from grader.sandbox.zygote_client import ZYGOTES
from grader.spec import default_course

NAME = "name_classifier"


TICK = os.sysconf("SC_CLK_TCK")


def live_cpu(pid: int) -> float:
    """CPU seconds of the live process ``pid``, of the children it waited for, and of its live descendants, read
    from /proc (the sandbox's processes are killed, not waited for, when a zygote is closed)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:  # it ended meanwhile
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK + sum(live_cpu(child) for child in children)


def cpu() -> float:
    """CPU seconds of this process tree: this process, its live descendants, and the descendants waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return live_cpu(os.getpid()) + children.ru_utime + children.ru_stime


def import_torch_cpu() -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    course = default_course()
    torch_cpu = statistics.median(import_torch_cpu() for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / f"{NAME}.py").write_text(course.reference_module(NAME).read_text())
        ZYGOTES.close()
        time.sleep(0.5)
        start_cpu, start = cpu(), time.perf_counter()
        scores = []
        for _ in range(args.repeat):
            report = grade_submission(folder, course, only=[NAME])
            scores.append(report.assignments[0].score)
        wall = time.perf_counter() - start
        spent = cpu() - start_cpu  # the zygote, alive, with the workers it reaped
        ZYGOTES.close()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    max_score = course.assignment(NAME).spec.max_score
    print(f"grading the reference's {NAME} in the sandbox, {args.repeat} times (scores {scores} of {max_score:g}):")
    print(f"  CPU per submission, whole process tree (one zygote start-up included): {spent / args.repeat:.2f} s")
    print(f"  wall time per submission: {wall / args.repeat:.1f} s")
    print(f"  peak memory of the largest process (a worker or the grader): {peak:.0f} MiB")
    print(f"  beside it, a fresh python -c 'import torch': {torch_cpu:.2f} s of CPU")
    measured, seconds = measure(course, NAME, args.seeds)
    values = measured["accuracy"]
    quality = course.assignment(NAME).spec.quality.get("accuracy")
    print(f"the quality test's accuracy over {args.seeds} seeds (the reference trained in-process):")
    print(f"  {', '.join(f'{v:.3f}' for v in values)}")
    chance = max(measured["accuracy.baseline"])
    print(f"  mean {statistics.fmean(values):.3f}, std {statistics.stdev(values):.3f}, "
          f"range {min(values):.3f}..{max(values):.3f}; chance (the commonest class) {chance:.3f}")
    if quality is not None:
        print(f"  assignment.toml: full marks from {quality.full_at}, none at {quality.zero_at}")
    print(f"  hidden tests per run, in-process: {statistics.fmean(seconds):.1f} s")


if __name__ == "__main__":
    main()
