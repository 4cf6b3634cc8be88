"""Grading a submission folder: find its modules, start one sandboxed worker, run each assignment's tests.

The stages, in order: read the modules (``.py`` or ``.ipynb``), check the contract's rules on their
source, start the worker, grade every expected assignment with the trusted tests and reference (one not
handed in scores 0), and put it all in one :class:`GradingReport`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Literal

import torch

from grader.diagnosis import diagnoser
from grader.intake import ModuleFile, Refused, SubmissionFolder, read_module
from grader.limits import Limits
from grader.results import AssignmentResult, GradingReport
from grader.rules import host_rules, static_violations
from grader.runner import grade_assignment
from grader.sandbox.session import SandboxedStudent, SubmissionSession, grading_order
from grader.spec import Assignment, Course, attempt_seed
from grader.student import import_module_from


class SubmissionError(Exception):
    """The submission cannot be graded at all; the message names the path and the fix."""


@functools.cache
def reference(path: Path) -> ModuleType | None:
    """The instructor's reference module, imported once per process; None where it is not present."""
    return import_module_from(path) if path.is_file() else None


def read_modules(
    folder: Path, names: Iterable[str], refused: Mapping[str, str] | None = None
) -> tuple[dict[str, ModuleFile], dict[str, str]]:
    """The course's modules present in ``folder``, and the ones present but refused, with the reason (see
    :mod:`grader.intake`: nothing is read through a link, nothing but regular files, nothing over the caps);
    ``refused``: modules already refused by whoever laid the folder out (an nbgrader merge)."""
    refused = refused or {}
    try:
        with SubmissionFolder.open(folder) as opened:
            if not opened.entries(limit=1) and not refused:
                raise SubmissionError(f"{folder}: the folder is empty; put your modules (rnn_forward.py, ...) in it")
            modules, unreadable = {}, {}
            for name in names:
                if name in refused:
                    unreadable[name] = refused[name]
                    continue
                try:
                    found = read_module(opened, name)
                except Refused as why:
                    unreadable[name] = str(why)
                    continue
                if found is not None:
                    modules[name] = found
    except Refused as why:
        raise SubmissionError(str(why)) from None
    if not modules and not unreadable:
        wanted = ", ".join(f"{n}.py" for n in names)
        raise SubmissionError(
            f"{folder}: none of the course's modules is here; expected any of {wanted} "
            "(or the same names as .ipynb notebooks)"
        )
    if not modules:
        raise SubmissionError("; ".join(unreadable.values()))
    return modules, unreadable


def not_handed_in(name: str) -> str:
    """The one line of an expected module the submission does not hold."""
    return f"{name}.py was not handed in (nor {name}.ipynb); it scores 0 (grade only some modules with --assignment)"


def unreadable_result(assignment: Assignment, reason: str) -> AssignmentResult:
    """The result of an expected assignment whose module is missing or was refused: 0 of its points."""
    return AssignmentResult(
        name=assignment.name,
        title=assignment.spec.title,
        score=0.0,
        max_score=assignment.spec.max_score,
        tasks=[],
        error=reason,
    )


def grade_submission(
    folder: Path,
    course: Course,
    only: Iterable[str] | None = None,
    which: Literal["public", "hidden"] = "hidden",
    limits: Limits | None = None,
    time_limit: float | None = None,
    refused: Mapping[str, str] | None = None,
    attempt: str | None = None,
) -> GradingReport:
    """Grade every expected assignment (the course's, or ``only``) on what ``folder`` holds: one that is missing
    or refused scores 0 of its points (``refused``: see :func:`read_modules`). The hidden tests draw their inputs
    from ``attempt`` (an earlier report's ``attempt_seed``, to reproduce it) or else from a new attempt seed."""
    torch.set_num_threads(1)  # the grader's own work is small tensors; parallelism comes from processes
    if course.lies_within(folder) and not course.bundle:
        raise SubmissionError(
            f"{folder}: the course ({course.root}) lies inside the submission; a submission cannot bring its own "
            "course: give --course the instructor's course folder"
        )
    assignments = {name: course.assignment(name) for name in (only or course.assignments)}
    course_seed = course.spec.seed_for(which, course.assignments_dir / "course.toml")  # the secret, or the public one
    attempt = (attempt or attempt_seed(course_seed)) if which == "hidden" else None
    seed = attempt or course_seed
    modules, unreadable = read_modules(folder, assignments, refused)
    rules = {name: assignments[name].spec.rules.model_dump() for name in modules}
    hosts = host_rules({name: (m.source, m.filename) for name, m in modules.items()}, rules)
    session = SubmissionSession({name: m.source for name, m in modules.items()}, rules, limits or Limits(), hosts)
    results: dict[str, AssignmentResult] = {}
    trusted = not course.bundle  # a bundle grading itself: nothing of it is imported but its public tests
    # as few workers as the rules allow; reported in course order
    order = grading_order({**rules, **hosts}, list(assignments))
    try:
        for name in order:
            assignment = assignments[name]
            if name not in modules:
                results[name] = unreadable_result(assignment, unreadable.get(name) or not_handed_in(name))
                continue
            module = modules[name]
            # a hosted module is clean under stricter rules than its own, so under its own too
            own_rules = assignment.spec.rules
            violations = {} if name in hosts else static_violations(module.source, own_rules, module.filename)
            reference_path = course.reference_module(name)
            while True:
                result = grade_assignment(
                    assignment,
                    SandboxedStudent(session, name, violations),
                    reference(reference_path) if trusted else None,
                    seed,
                    which,
                    time_limit,
                    diagnoser(assignment, reference_path) if trusted else None,
                    split_secret=course_seed,
                )
                if name not in session.overruled:
                    break
                # it met a refusal its own rules would not have: graded again under them, with its whole time budget
                # (the grader chose to host it), so a module costs at most two budgets
                session.unhost(name)
            result.notes += module.notes
            result.student_output = session.printed.get(name, "")
            results[name] = result
        printed_outside = session.output()
    finally:
        session.close()
    notes = []
    graded = [results[name] for name in assignments]
    not_counted = sum(t.status == "error" for a in graded for t in a.tests)
    if not_counted:
        notes.append(
            f"incomplete: {not_counted} test(s) could not run because of a problem in the course, the grader or its "
            "sandbox; they are not counted (neither earned nor lost), the instructor has been told, and they are "
            "retried when the class is graded again"
        )
    if session.isolation.level != "bubblewrap":
        notes.append("student code ran without bubblewrap: " + session.isolation.details[0])
    if printed_outside.strip():
        notes.append(
            f"the student's code wrote to the terminal directly (first 300 characters): {printed_outside[:300]!r}"
        )
    return GradingReport(
        submission=str(folder),
        assignments=graded,
        isolation=session.isolation.describe(),
        tests=which,
        attempt_seed=attempt,
        notes=notes,
    )
