"""Finding each student's submission in a class folder, and laying it out as a folder ``grader run`` grades.

A class folder holds one entry per student: a folder or an archive (``.zip``, ``.tar.gz``) named after the
student, or nbgrader's ``submitted/<student>/<assignment>/`` layout, whose assignment folders are merged.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from grader.batch.archives import ARCHIVE_SUFFIXES, ArchiveError, ArchiveLimits, extract, is_archive, module_folder
from grader.batch.outcome import content_hash

Kind = Literal["folder", "archive", "nbgrader", "unknown"]


class Entry(BaseModel):
    """One student's submission as found in the class folder."""

    student: str
    source: Path
    kind: Kind


def student_name(path: Path) -> str:
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def discover(root: Path) -> list[Entry]:
    """The students' entries in ``root``, sorted by student id."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder; give the folder with one entry per student")
    submitted = root / "submitted"
    if submitted.is_dir():
        return [Entry(student=p.name, source=p, kind="nbgrader") for p in sorted(submitted.iterdir()) if p.is_dir()]
    entries = []
    for path in sorted(root.iterdir()):
        if path.name.startswith("."):
            continue
        kind: Kind = "folder" if path.is_dir() else "archive" if is_archive(path) else "unknown"
        entries.append(Entry(student=student_name(path), source=path, kind=kind))
    return entries


def source_hash(entry: Entry) -> str:
    """A hash of what the student handed in, to tell whether it changed since it was last graded; of an archive
    too large to extract, a hash of its size only."""
    if entry.kind == "archive":
        size = entry.source.stat().st_size
        if size > ArchiveLimits().max_archive_bytes:
            return hashlib.sha256(f"an archive too large to extract, of {size} bytes".encode()).hexdigest()
        with entry.source.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    return content_hash(entry.source) if entry.source.is_dir() else hashlib.sha256(b"").hexdigest()


def prepare(entry: Entry, work: Path, limits: ArchiveLimits | None = None) -> Path:
    """The folder holding the student's modules, extracted or merged under ``work`` where needed."""
    if entry.kind == "folder":
        return entry.source
    if entry.kind == "archive":
        extract(entry.source, work, limits)
        return module_folder(work)
    if entry.kind == "nbgrader":
        for assignment in sorted(p for p in entry.source.iterdir() if p.is_dir()):
            for path in sorted(p for p in assignment.iterdir() if p.is_file() and not p.is_symlink()):
                if (work / path.name).exists():
                    raise ArchiveError(f"{path}: a file of this name is in two of the student's assignment folders")
                shutil.copyfile(path, work / path.name)
        return work
    raise ArchiveError(
        f"{entry.source.name}: neither a folder nor an archive (.zip, .tar.gz); each student's "
        "submission must be one of these"
    )
