"""Benchmark of running the hidden tests in-process: the reference graded as a submission, many times over.

Grades the reference of all six assignments with :class:`LocalStudent` (no sandbox, no worker) once cold
and then N - 1 times warm, as one ``grader batch`` process does submission after submission, and prints
the wall and CPU time per submission and how much of it is spent inside the tests themselves (the rest is
the runner's own cost). Figures, not assertions. Usage: ``.venv/bin/python bench/tests.py [-n 20]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from grader.runner import grade_assignment
from grader.spec import default_course
from grader.student import LocalStudent, import_module_from


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="submissions to grade (the first is cold)")
    n = parser.parse_args().n
    torch.set_num_threads(1)  # as grade_submission does
    course = default_course()
    seed = course.spec.seed_for("hidden", course.assignments_dir / "course.toml")
    references = {name: import_module_from(course.reference_module(name)) for name in course.assignments}
    walls, cpus, inside, tests, lost = [], [], [], 0, 0.0
    for _ in range(n):
        wall, cpu, in_tests, tests = time.perf_counter(), time.process_time(), 0.0, 0
        for name, assignment in course.assignments.items():
            student = LocalStudent(course.reference_module(name))
            result = grade_assignment(assignment, student, references[name], seed, "hidden")
            lost += result.max_score - result.score
            in_tests += sum(t.duration for t in result.tests)
            tests += len(result.tests)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        inside.append(in_tests)
    print(f"hidden tests of the 6 assignments ({tests} tests), reference graded in-process {n} times")
    if lost:
        print(f"  the reference lost {lost:.3g} points in all: the figures time failing tests")
    print(f"  cold (first):  {walls[0]:.3f} s wall, {cpus[0]:.3f} s CPU, {inside[0]:.3f} s inside tests")
    if n > 1:
        wall, cpu, inner = (statistics.median(xs[1:]) for xs in (walls, cpus, inside))
        print(f"  warm (median): {wall:.3f} s wall, {cpu:.3f} s CPU, {inner:.3f} s inside tests")
        print(f"  runner's own cost per warm submission: {wall - inner:.3f} s ({100 * (wall - inner) / wall:.0f}%)")


if __name__ == "__main__":
    main()
