"""``grader validate``: proof that an assignment's hidden tests and mistake catalogue do their job.

The reference must get full marks, the starter none, and every catalogued mutant, graded as if it were a
submission, must lose points and be named as itself (where two mistakes give the same result on a test,
being among the names counts, but each mutant must be the first name on at least one test). Pairs of
mutants that no hidden test tells apart are reported too.
"""

from __future__ import annotations

import itertools
import tempfile
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from grader.diagnosis import diagnoser
from grader.mistakes import MutantError
from grader.results import AssignmentResult
from grader.runner import grade_assignment
from grader.spec import Course
from grader.starter import write_starter
from grader.student import LocalStudent, Student, import_module_from


class Verdict(BaseModel):
    """How one subject (the reference, the starter or a mutant) fared."""

    subject: str
    score: float
    max_score: float
    diagnoses: dict[str, int] = Field(default_factory=dict, description="first-named mistake -> failed tests")
    problem: str | None = None


class Validation(BaseModel):
    """One assignment's validation."""

    assignment: str
    verdicts: list[Verdict]
    indistinguishable: list[tuple[str, str]] = Field(default_factory=list)

    @property
    def mutants(self) -> list[Verdict]:
        return self.verdicts[2:]

    @property
    def caught(self) -> int:
        return sum(v.problem is None for v in self.mutants)

    @property
    def ok(self) -> bool:
        return all(v.problem is None for v in self.verdicts) and not self.indistinguishable


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


def validate_assignment(course: Course, name: str) -> Validation:
    assignment = course.assignment(name)
    reference_path = course.reference_module(name)
    reference = import_module_from(reference_path)
    names_mistakes = diagnoser(assignment, reference_path)
    seed = course.spec.seed_for("hidden", course.assignments_dir / "course.toml")

    def grade(student: Student) -> AssignmentResult:
        return grade_assignment(assignment, student, reference, seed, "hidden", diagnoser=names_mistakes)

    verdicts = []
    result = grade(LocalStudent(reference_path))
    verdicts.append(
        Verdict(
            subject="reference",
            score=result.score,
            max_score=result.max_score,
            problem=None if result.score >= result.max_score - 1e-9 else "loses points",
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        result = grade(LocalStudent(write_starter(reference_path, Path(folder))))
    verdicts.append(
        Verdict(
            subject="starter",
            score=result.score,
            max_score=result.max_score,
            problem=None if result.score == 0 else "earns points",
        )
    )
    if names_mistakes is None:
        verdicts[0].problem = f"no mistake catalogue ({assignment.folder / 'mistakes.py'})"
        return Validation(assignment=name, verdicts=verdicts)
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
    return Validation(assignment=name, verdicts=verdicts, indistinguishable=twins)


def print_validation(validations: list[Validation], console: Console) -> None:
    for validation in validations:
        table = Table(title=f"{validation.assignment}", title_justify="left")
        for column in ("subject", "score", "named as", "verdict"):
            table.add_column(column)
        for v in validation.verdicts:
            named = ", ".join(f"{k} ×{n}" for k, n in v.diagnoses.items())
            verdict = "[green]ok[/]" if v.problem is None else f"[red]{v.problem}[/]"
            table.add_row(v.subject, f"{v.score:.4g} / {v.max_score:.4g}", named, verdict)
        console.print(table)
        for a, b in validation.indistinguishable:
            console.print(f"[red]{a} and {b} give the same results on every hidden test they fail[/]")
    mutants = sum(len(v.mutants) for v in validations)
    caught = sum(v.caught for v in validations)
    score = 100.0 * caught / mutants if mutants else 0.0
    console.print(f"mutation score: {caught} / {mutants} mutants caught and named ({score:.0f}%)")
