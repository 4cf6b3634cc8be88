"""Which files of a course a release takes: the instructor's (hidden tests, reference, seed) or the students'."""

from __future__ import annotations

import json
from pathlib import Path

from grader.release.errors import ReleaseError
from grader.spec import Course

SKIPPED = ("__pycache__", ".pyc", ".pytest_cache")


def tree(folder: Path) -> list[Path]:
    """Every file under ``folder``, without Python's caches, sorted."""
    files = (p for p in folder.rglob("*") if p.is_file())
    return sorted(p for p in files if not any(s in p.parts or p.suffix == s for s in SKIPPED))


def reference(course: Course, name: str) -> Path:
    """The reference solution of assignment ``name``, or a :class:`ReleaseError` saying it is missing."""
    path = course.reference_module(name)
    if not path.is_file():
        raise ReleaseError(f"{path}: not found; releasing {name} needs its reference solution")
    return path


def course_files(course: Course, names: list[str]) -> list[Path]:
    """What grading ``names`` with the hidden tests needs: course.toml (with the seed), each assignment's whole
    folder (hidden tests, mistake catalogue), each reference solution."""
    files = [course.assignments_dir / "course.toml"]
    for name in names:
        files += [*tree(course.assignment(name).folder), reference(course, name)]
    return files


def public_files(course: Course, name: str) -> list[Path]:
    """What a student gets of assignment ``name``: its assignment.toml, handout and public tests, nothing else."""
    assignment = course.assignment(name)
    return [assignment.folder / "assignment.toml", assignment.handout, *tree(assignment.tests_dir("public"))]


def public_tests(course: Course, name: str) -> list[str]:
    """The public test files of assignment ``name``, relative to its ``tests/public/``."""
    folder = course.assignment(name).tests_dir("public")
    return [p.relative_to(folder).as_posix() for p in tree(folder) if p.name.startswith("test_") and p.suffix == ".py"]


def student_course_toml(course: Course, names: list[str]) -> str:
    """The students' ``course.toml``: the title and the released public test files of ``names``, never the seed."""
    header = (
        "# The course, as released to students: no seed, so only the public tests run here, and only the files\n"
        "# listed under [public_tests] (grader run . --public collects no other file of this folder)."
    )
    tests = "".join(f"{name} = {json.dumps(public_tests(course, name))}\n" for name in names)
    return f"{header}\ntitle = {json.dumps(course.spec.title)}\n\n[public_tests]\n{tests}"
