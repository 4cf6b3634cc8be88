"""Finding each student's submission in a class folder, and laying it out as a folder ``grader run`` grades.

A class folder holds one entry per student: a folder or an archive (``.zip``, ``.tar.gz``) named after the
student. An nbgrader course (a folder with ``submitted/``), its ``submitted/`` folder itself, or a folder beside an
``nbgrader_config.py`` holds nbgrader's ``submitted/<student>/<assignment>/`` layout instead, whose assignment
folders are merged. A link is never followed: an entry, an assignment folder or a module that is one is refused;
only the course's module files are read, through :mod:`grader.intake`, so nbgrader's bookkeeping (``timestamp.txt``,
``.ipynb_checkpoints``, anything else it writes) is never read. A module found in two assignment folders is taken
when both copies are the same, or from the folder named after it (nbgrader's assignment of that name, as
``grader release --format nbgrader`` lays a course out); two different copies elsewhere are refused.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from grader.batch.archives import ARCHIVE_SUFFIXES, ArchiveError, ArchiveLimits, extract, is_archive, module_folder
from grader.intake import Refused, SubmissionFolder, module_files

Kind = Literal["folder", "archive", "nbgrader", "link", "unknown"]
MAX_ASSIGNMENT_FOLDERS = 100
"""Assignment folders of one student that nbgrader's layout may hold."""
SUBMITTED = "submitted"
"""nbgrader's folder of collected submissions, in a course's root."""


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


def kind_of(path: Path) -> Kind:
    """What the class folder's entry ``path`` is, a link never followed."""
    if path.is_symlink():
        return "link"
    return "folder" if path.is_dir() else "archive" if is_archive(path) else "unknown"


def nbgrader_submitted(root: Path) -> Path | None:
    """The folder of nbgrader's ``<student>/<assignment>/`` layout that ``root`` is or holds: a course's
    ``submitted/``, that folder given itself, or a folder of an nbgrader course's root (a renamed ``submitted``, or
    ``autograded``); None for a plain class folder."""
    submitted = root / SUBMITTED
    if submitted.is_dir() and not submitted.is_symlink():
        return submitted
    if root.name == SUBMITTED or (root.parent / "nbgrader_config.py").is_file():
        return root
    return None


def discover(root: Path) -> list[Entry]:
    """The students' entries in ``root``, sorted by student id; hidden entries (``.ipynb_checkpoints``) are not
    students."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder; give the folder with one entry per student")
    submitted = nbgrader_submitted(root)
    entries = []
    for path in sorted((submitted or root).iterdir()):
        if path.name.startswith("."):
            continue
        if submitted is None:
            entries.append(Entry(student=student_name(path), source=path, kind=kind_of(path)))
        else:
            kind: Kind = "link" if path.is_symlink() else "nbgrader" if path.is_dir() else "unknown"
            entries.append(Entry(student=path.name, source=path, kind=kind))
    return entries


@dataclass
class Gathered:
    """A student's module files (name to bytes), the modules refused (name to why) and notes on what was not read;
    ``found_in``: the folder each file was taken from."""

    files: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    found_in: dict[str, str] = field(default_factory=dict)

    def add(self, folder: str, module: str, filename: str, data: bytes) -> None:
        """Take ``filename`` (of ``module``) from the assignment folder ``folder``, unless another folder gave the
        same bytes or is the one named after the module; two different copies in other folders are ambiguous."""
        taken = self.found_in.get(filename)
        if taken is None or self.files[filename] == data:
            self.files.setdefault(filename, data)
            self.found_in.setdefault(filename, folder)
            return
        if module not in (taken, folder):
            raise ArchiveError(
                f"{taken}/{filename} and {folder}/{filename}: this module is in two of the student's folders, with "
                "different contents; keep one of them"
            )
        kept, other = (folder, taken) if folder == module else (taken, folder)
        if folder == module:
            self.files[filename], self.found_in[filename] = data, folder
        self.notes.append(f"{other}/{filename} differs from {kept}/{filename}; graded the one in {kept}/")

    def digest(self) -> str:
        """A hash of everything gathered, refusals included, so that fixing one regrades."""
        digest = hashlib.sha256()
        for filename, data in sorted(self.files.items()):
            digest.update(filename.encode() + b"\0" + data + b"\0")
        for name, reason in sorted(self.refused.items()):
            digest.update(f"{name} refused: {reason}\0".encode())
        digest.update("\0".join(self.notes).encode())
        return digest.hexdigest()


def gather_modules(folder: SubmissionFolder, names: Iterable[str], into: Gathered) -> None:
    """The course's module files in ``folder`` (``<name>.py``, ``<name>.ipynb``), read through
    :mod:`grader.intake` into ``into`` (see :meth:`Gathered.add`): nothing else of the folder (nbgrader's
    ``timestamp.txt``, data, outputs) is read, and a module that is a link or too large is refused by name."""
    for name in names:
        for filename, limit in module_files(name):
            try:
                data = folder.read(filename, limit)
            except Refused as refused:
                into.refused.setdefault(name, f"{folder.label}/{refused}")
                continue
            if data is not None:
                into.add(folder.label, name, filename, data)


def gather_nbgrader(entry: Entry, names: Iterable[str]) -> Gathered:
    """The course's modules of every assignment folder of an nbgrader entry (and of the entry itself, for a plain
    class folder named ``submitted``); an assignment folder that is a link is not read, and said so, and a hidden one
    (``.ipynb_checkpoints``) is nbgrader's or Jupyter's, not the student's."""
    gathered = Gathered()
    names = list(names)
    with SubmissionFolder.open(entry.source, follow=False) as student:
        listed = student.entries(limit=MAX_ASSIGNMENT_FOLDERS + 1)
        if len(listed) > MAX_ASSIGNMENT_FOLDERS:
            raise ArchiveError(f"{entry.source}: more than {MAX_ASSIGNMENT_FOLDERS} entries; one per assignment")
        student.label = entry.source.name
        gather_modules(student, names, gathered)
        for name, mode in listed:
            if name.startswith("."):
                continue
            if stat.S_ISLNK(mode):
                gathered.notes.append(f"{entry.source.name}/{name} is a symbolic link, so it was not read")
            elif stat.S_ISDIR(mode):
                with student.subfolder(name, label=name) as folder:
                    gather_modules(folder, names, gathered)
    return gathered


def source_hash(entry: Entry, names: Iterable[str]) -> str:
    """A hash of what the student handed in of the course's modules ``names``, to tell whether it changed since it
    was last graded; of an archive, of its bytes (of one too large to extract, of its size only); of an entry that
    cannot be read, of why."""
    gathered = Gathered()
    try:
        if entry.kind == "archive":
            size = entry.source.stat().st_size
            if size > ArchiveLimits().max_archive_bytes:
                return hashlib.sha256(f"an archive too large to extract, of {size} bytes".encode()).hexdigest()
            with entry.source.open("rb") as file:
                return hashlib.file_digest(file, "sha256").hexdigest()
        if entry.kind == "folder":
            with SubmissionFolder.open(entry.source, follow=False) as folder:
                gather_modules(folder, names, gathered)
        elif entry.kind == "nbgrader":
            gathered = gather_nbgrader(entry, names)
    except (Refused, ArchiveError, OSError) as error:
        gathered.notes.append(f"unreadable: {error}")
    return gathered.digest()


@dataclass
class Prepared:
    """A student's submission laid out for grading: the folder of its modules, and what the layout refused."""

    folder: Path
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def prepare(entry: Entry, work: Path, names: Iterable[str], limits: ArchiveLimits | None = None) -> Prepared:
    """The student's modules as a folder, extracted or merged under ``work`` where needed."""
    if entry.kind == "folder":
        return Prepared(entry.source)
    if entry.kind == "archive":
        extract(entry.source, work, limits)
        return Prepared(module_folder(work))
    if entry.kind == "nbgrader":
        try:
            gathered = gather_nbgrader(entry, names)
        except Refused as refused:
            raise ArchiveError(str(refused)) from None
        for filename, data in gathered.files.items():
            (work / filename).write_bytes(data)
        return Prepared(work, gathered.refused, gathered.notes)
    if entry.kind == "link":
        raise ArchiveError(f"{entry.source.name}: a symbolic link; each student's submission must be a real folder")
    raise ArchiveError(
        f"{entry.source.name}: neither a folder nor an archive (.zip, .tar.gz); each student's "
        "submission must be one of these"
    )
