"""``grader calibrate ASSIGNMENT``: measure the reference's quality over several seeds and write the thresholds.

A test that scores a quality (``grade.quality``: a trained model's accuracy) needs to know what a good result is
on the course's data and budget. This trains the reference with ``--seeds`` different seeds, through the
assignment's own hidden tests run in this process (the reference is the course's code), and writes each quality's
``[quality.NAME]`` table into the assignment.toml between two marker lines, which it rewrites on every run:

- ``full_at``: the reference's mean less ``SPREADS`` standard deviations (and never above its worst seed), so an
  honest solution's bad luck keeps full marks;
- ``zero_at``: what a model that learned nothing scores (the test's ``baseline``: the commonest class's share).
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import click
from rich.console import Console

from grader import exits
from grader.options import course_option, load_course
from grader.spec import Course, QualitySpec, SpecError

SPREADS = 4.0
"""How many standard deviations below the reference's mean full marks begin."""
BEGIN = "# BEGIN grader calibrate: written by `grader calibrate {name}`; do not edit by hand, run it again"
END = "# END grader calibrate"


def thresholds(values: list[float], baselines: list[float]) -> QualitySpec:
    """The thresholds of a quality the reference measured as ``values`` (one a seed)."""
    mean, spread = statistics.fmean(values), statistics.stdev(values)
    full_at = min(mean - SPREADS * spread, min(values))
    return QualitySpec(  # rounded so that the reference keeps full marks and a model that learned nothing gets none
        full_at=math.floor(round(full_at * 1e4, 6)) / 1e4,
        zero_at=math.ceil(round(max(baselines) * 1e4, 6)) / 1e4,
        reference_mean=round(mean, 4),
        reference_std=round(spread, 4),
        seeds=len(values),
    )


def measure(course: Course, name: str, seeds: int) -> tuple[dict[str, list[float]], list[float]]:
    """Each quality's values over ``seeds`` runs of the hidden tests on the reference, and each run's seconds."""
    import torch

    from grader.runner import grade_assignment
    from grader.student import LocalStudent, import_module_from

    torch.set_num_threads(1)  # as in the sandbox: the budget is one core's
    assignment = course.assignment(name)
    secret = course.spec.seed_for("hidden", course.assignments_dir / "course.toml")
    path = course.reference_module(name)
    reference = import_module_from(path)
    measured: dict[str, list[float]] = {}
    seconds = []
    for run in range(seeds):
        start = time.perf_counter()
        result = grade_assignment(
            assignment,
            LocalStudent(path),
            reference,
            f"{secret}:calibration:{run}",
            "hidden",
            split_secret=secret,
            measured=measured,
        )
        seconds.append(time.perf_counter() - start)
        if result.course_errors:
            raise SpecError(f"{name}: the reference's hidden tests could not run: {result.course_errors[0]}")
    return measured, seconds


def written(text: str, name: str, qualities: dict[str, QualitySpec]) -> str:
    """``text`` (an assignment.toml) with its calibrated block replaced by ``qualities``'s tables."""
    begin = BEGIN.format(name=name)
    lines = text.splitlines()
    if begin in lines:
        if END not in lines[lines.index(begin) :]:
            raise SpecError(f"{name}/assignment.toml: the line {begin!r} has no {END!r} after it")
        end = lines.index(END, lines.index(begin))
        lines = lines[: lines.index(begin)] + lines[end + 1 :]
    while lines and not lines[-1].strip():
        lines.pop()
    block = [begin]
    for quality, spec in sorted(qualities.items()):
        block += ["", f"[quality.{quality}]"] + [f"{key} = {value!r}" for key, value in spec.model_dump().items()]
    return "\n".join([*lines, "", *block, END]) + "\n"


@click.command()
@click.argument("assignment")
@click.option("--seeds", type=click.IntRange(min=2), default=20, show_default=True, help="Trainings of the reference.")
@course_option
def calibrate(assignment: str, seeds: int, course: Path | None) -> None:
    """Train the reference with several seeds through the assignment's hidden tests and write the thresholds of each
    quality they score (full marks from its mean less a few standard deviations) into its assignment.toml."""
    console = Console(highlight=False)
    try:
        loaded = load_course(course)
        target = loaded.assignment(assignment)
        measured, seconds = measure(loaded, assignment, seeds)
        names = sorted(key for key in measured if not key.endswith(".baseline"))
        if not names:
            raise SpecError(f"{assignment}: no hidden test scores a quality (grade.quality), so there is nothing to do")
        qualities = {q: thresholds(measured[q], measured[f"{q}.baseline"]) for q in names}
        toml = target.folder / "assignment.toml"
        toml.write_text(written(toml.read_text(encoding="utf-8"), assignment, qualities), encoding="utf-8")
        type(target)(target.folder)  # the file still reads as an assignment
    except SpecError as error:
        exits.fail(str(error))
    for quality, spec in qualities.items():
        values = ", ".join(f"{v:.3f}" for v in measured[quality])
        console.print(
            f"{assignment}: {quality} over {seeds} seeds: {values}; mean {spec.reference_mean:.3f}, "
            f"std {spec.reference_std:.3f}: full marks from {spec.full_at}, none at {spec.zero_at}"
        )
    per_run = max(seconds)
    console.print(
        f"{assignment}: the hidden tests took the reference at most {per_run:.1f} s a run, of a budget of "
        f"{target.spec.budget():g} s (a test may take {target.spec.time_limit:g} s); written to {toml}"
    )
