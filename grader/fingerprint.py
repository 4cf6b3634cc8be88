"""What a grade was made of: a hash of everything of the course that can change a grade, so that a gradebook knows
when its grades are stale."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from grader import __version__
from grader.spec import Course

GRADED_FILES = ("assignment.toml", "mistakes.py")
"""The files of an assignment's folder that grading reads, besides its tests (the handout is not one)."""


def digest_files(files: Iterable[Path], root: Path) -> str:
    """sha256 over the paths (relative to ``root``) and contents of ``files``, in a stable order; a missing file
    counts as absent."""
    digest = hashlib.sha256()
    for path in sorted(files):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def assignment_fingerprint(course: Course, name: str) -> str:
    """The hash of one assignment's spec, tests (hidden and public), reference and mistake catalogue."""
    assignment = course.assignment(name)
    folder = assignment.folder
    files = [folder / file for file in GRADED_FILES]
    files += [path for path in (folder / "tests").rglob("*") if "__pycache__" not in path.parts]
    files.append(course.reference_module(name))
    return digest_files(files, course.root)


def course_fingerprint(course: Course, names: Iterable[str]) -> str:
    """The hash of grading ``names`` with ``course``: each assignment's fingerprint, the course's own settings (its
    seeds) and the grader's version. Any change to one of them regrades every student."""
    digest = hashlib.sha256(f"grader {__version__}\0".encode())
    digest.update(digest_files([course.assignments_dir / "course.toml"], course.root).encode())
    for name in sorted(names):
        digest.update(f"{name}\0{assignment_fingerprint(course, name)}\0".encode())
    return digest.hexdigest()
