"""``grader validate``: proof that an assignment's tests and mistake catalogue do their job.

The reference must get full marks, the starter none, and every catalogued mutant, graded as if it were a
submission, must lose points and be named as itself (where two mistakes give the same result on a test,
being among the names counts, but each mutant must be the first name on at least one test). Pairs of
mutants that no hidden test tells apart are reported too. The public tests, run as a student's released bundle
runs them (without the reference), must all pass on the reference and all fail on the starter. A test the course
failed (one written wrong, or whose reference raised) is a problem too, on one line naming the test.
"""

from __future__ import annotations

import itertools
import tempfile
from collections import Counter
from pathlib import Path

import torch
from pydantic import BaseModel, Field
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.diagnosis import diagnoser
from grader.mistakes import MutantError
from grader.results import AssignmentResult
from grader.runner import grade_assignment
from grader.spec import Assignment, Course, attempt_seed
from grader.starter import write_starter
from grader.student import LocalStudent, Student, import_module_from

VALIDATION_NONCE = "validate"
"""Validation grades one fixed attempt, so that two runs on the same course report the same."""


class Verdict(BaseModel):
    """How one subject (the reference, the starter or a mutant) fared."""

    subject: str
    score: float
    max_score: float
    diagnoses: dict[str, int] = Field(default_factory=dict, description="first-named mistake -> failed tests")
    problem: str | None = None
    details: list[str] = Field(default_factory=list, description="the problem's lines, each naming a test in full")


class Validation(BaseModel):
    """One assignment's validation."""

    assignment: str
    verdicts: list[Verdict]
    public: list[Verdict] = Field(default_factory=list, description="the reference and the starter on the public tests")
    indistinguishable: list[tuple[str, str]] = Field(default_factory=list)
    course_errors: list[str] = Field(default_factory=list, description="one line per test the course failed")

    @property
    def mutants(self) -> list[Verdict]:
        return self.verdicts[2:]

    @property
    def caught(self) -> int:
        return sum(v.problem is None for v in self.mutants)

    @property
    def ok(self) -> bool:
        verdicts = self.verdicts + self.public
        return all(v.problem is None for v in verdicts) and not self.indistinguishable and not self.course_errors


def failed_matches(result: AssignmentResult) -> dict[str, list[str]]:
    """Each failed test's matching mistakes, first-named first."""
    return {t.name: t.feedback.matches if t.feedback else [] for t in result.tests if t.status != "passed"}


def mutant_problem(mistake_id: str, result: AssignmentResult) -> str | None:
    if result.score >= result.max_score - 1e-9:
        return "survived: it loses no points"
    matches = failed_matches(result)
    named = [m for m in matches.values() if m]
    if not named:
        return "not diagnosed on any failed test"
    wrong = Counter(m[0] for m in named if mistake_id not in m)
    if wrong:
        return "diagnosed as " + ", ".join(f"{other} ({n} tests)" for other, n in wrong.most_common())
    if not any(m[0] == mistake_id for m in named):
        return "never the first name: another mistake always explains its results as well"
    return None


def one_line(error: str) -> str:
    """A course error (the test's id and what went wrong, maybe then a traceback) as one line: the traceback's last."""
    name, _, trace = error.partition("\n")
    lines = trace.strip().splitlines()
    return f"{name} {lines[-1].strip()}" if lines else name


def graded_verdict(subject: str, result: AssignmentResult, problem: str | None) -> Verdict:
    return Verdict(subject=subject, score=result.score, max_score=result.max_score, problem=problem)


def reference_problem(result: AssignmentResult) -> str | None:
    if result.course_errors:
        return f"{len(result.course_errors)} tests could not run (below)"
    return None if result.score >= result.max_score - 1e-9 else "loses points"


def public_results(
    course: Course, assignment: Assignment, reference: Path, starter: Path
) -> tuple[AssignmentResult, AssignmentResult]:
    """The public tests' results on the reference and on the starter, graded as a student's released bundle grades
    itself: with the public seed, and neither the reference nor the catalogue beside them."""
    seed = course.spec.seed_for("public", course.assignments_dir / "course.toml")
    on_reference, on_starter = (
        grade_assignment(assignment, LocalStudent(path), None, seed, "public") for path in (reference, starter)
    )
    return on_reference, on_starter


def public_verdict(subject: str, result: AssignmentResult, wrong: list[str], does: str) -> Verdict:
    """The verdict of ``subject`` on the public tests: ``wrong``, the tests it ``does`` (fails, passes) but must not,
    each named on a line of its own."""
    problem = f"{does} {len(wrong)} of them (below)" if wrong else None
    verdict = graded_verdict(f"{subject} (public)", result, problem)
    verdict.details = [f"{result.name}: the {subject} {does} the public test {test}" for test in wrong]
    return verdict


def public_verdicts(on_reference: AssignmentResult, on_starter: AssignmentResult) -> list[Verdict]:
    """Every public test must pass on the reference and fail on the starter."""
    failing = [t.name for t in on_reference.tests if t.status != "passed"]
    passing = [t.name for t in on_starter.tests if t.status == "passed"]
    return [
        public_verdict("reference", on_reference, failing, "fails"),
        public_verdict("starter", on_starter, passing, "passes"),
    ]


def validate_assignment(course: Course, name: str) -> Validation:
    torch.set_num_threads(1)  # small tensors, and the budgets of trained models are one core's, as in the sandbox
    assignment = course.assignment(name)
    reference_path = course.reference_module(name)
    reference = import_module_from(reference_path)
    names_mistakes = diagnoser(assignment, reference_path)
    seed = attempt_seed(course.spec.seed_for("hidden", course.assignments_dir / "course.toml"), VALIDATION_NONCE)

    def grade(student: Student) -> AssignmentResult:
        return grade_assignment(assignment, student, reference, seed, "hidden", diagnoser=names_mistakes)

    on_reference = grade(LocalStudent(reference_path))
    verdicts = [graded_verdict("reference", on_reference, reference_problem(on_reference))]
    with tempfile.TemporaryDirectory() as folder:
        starter = write_starter(reference_path, Path(folder))
        result = grade(LocalStudent(starter))
        public_on_reference, public_on_starter = public_results(course, assignment, reference_path, starter)
    verdicts.append(graded_verdict("starter", result, None if result.score == 0 else "earns points"))
    public = public_verdicts(public_on_reference, public_on_starter)
    course_errors = [one_line(error) for error in on_reference.course_errors + public_on_reference.course_errors]
    if names_mistakes is None:
        verdicts[0].problem = f"no mistake catalogue ({assignment.folder / 'mistakes.py'})"
        return Validation(assignment=name, verdicts=verdicts, public=public, course_errors=course_errors)
    matches: dict[str, dict[str, list[str]]] = {}
    for mistake in names_mistakes.catalogue.mistakes.values():
        try:
            result = grade(LocalStudent.of_module(names_mistakes.mutant(mistake)))
        except MutantError as error:
            verdicts.append(Verdict(subject=mistake.id, score=0, max_score=0, problem=str(error)))
            continue
        matches[mistake.id] = failed_matches(result)
        first = Counter(m[0] for m in matches[mistake.id].values() if m)
        verdicts.append(
            Verdict(
                subject=mistake.id,
                score=result.score,
                max_score=result.max_score,
                diagnoses=dict(first),
                problem=mutant_problem(mistake.id, result),
            )
        )
    twins = [
        (a, b)
        for a, b in itertools.combinations(matches, 2)
        if matches[a]
        and matches[a].keys() == matches[b].keys()
        and all(b in matches[a][t] and a in matches[b][t] for t in matches[a])
    ]
    return Validation(
        assignment=name, verdicts=verdicts, public=public, indistinguishable=twins, course_errors=course_errors
    )


def print_validation(validations: list[Validation], console: Console) -> None:
    for validation in validations:
        table = Table(title=f"{validation.assignment}", title_justify="left")
        for column in ("subject", "score", "named as", "verdict"):
            table.add_column(column)
        verdicts = validation.verdicts
        for v in verdicts[:2] + validation.public + verdicts[2:]:
            names = ", ".join(f"{k} ×{n}" for k, n in v.diagnoses.items())
            verdict = "[green]ok[/]" if v.problem is None else f"[red]{escape(v.problem)}[/]"
            table.add_row(v.subject, f"{v.score:.4g} / {v.max_score:.4g}", names, verdict)
        console.print(table)
        for a, b in validation.indistinguishable:
            console.print(f"[red]{a} and {b} give the same results on every hidden test they fail[/]")
        for line in [d for v in validation.public for d in v.details] + validation.course_errors:
            console.print(f"[red]{escape(line)}[/]", soft_wrap=True)
    mutants = sum(len(v.mutants) for v in validations)
    caught = sum(v.caught for v in validations)
    score = 100.0 * caught / mutants if mutants else 0.0
    console.print(f"mutation score: {caught} / {mutants} mutants caught and named ({score:.0f}%)")
