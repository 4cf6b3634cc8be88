"""Reading a submission's files (trusted side): the one path by which bytes a student controls enter the grader.

Every command (``grader run``, ``batch``, ``ci``, the Gradescope scripts) reads a submission through
:class:`SubmissionFolder`. A file is opened by its plain name relative to its folder's own descriptor with
``O_NOFOLLOW`` (so neither the file nor any folder on the way can be a link, and no path leaves the folder),
checked with ``fstat`` (a FIFO, a device, a socket or a folder where a module should be is refused without
being read) and read up to a cap. What cannot be read is a :class:`Refused` whose message names the file and
the fix: the student's error for that module, never the grader's.
"""

from __future__ import annotations

import ast
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_SCRIPT_BYTES = 1 << 20
"""The largest ``.py`` module read: a real solution is a few KiB."""
MAX_NOTEBOOK_BYTES = 16 << 20
"""The largest ``.ipynb`` read: a notebook carries its outputs (plots) too."""
MAX_ENTRIES = 2000
"""Entries of one folder looked at, when a folder is listed."""

FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
FOLDER_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse`` of a student's source: every way the parser fails on hostile text (too deep, too long, a NUL
    byte) is a ``SyntaxError``, so no caller can be crashed by it."""
    try:
        return ast.parse(source, filename)
    except SyntaxError:
        raise
    except (ValueError, RecursionError, MemoryError) as error:
        raise SyntaxError(f"the code cannot be parsed ({type(error).__name__}: nested too deeply)") from None


class Refused(Exception):
    """A file or folder of a submission that is not read; the message names it and says what to hand in instead."""


def plain_name(name: str) -> str:
    """``name`` when it names an entry of a folder itself (no separator, not ``.`` or ``..``); ValueError otherwise."""
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise ValueError(f"{name!r} is not a plain file name")
    return name


def human(size: int) -> str:
    """A size as a student reads it: ``270 MiB``, ``1 MiB``, ``512 KiB``."""
    return f"{size / (1 << 20):.3g} MiB" if size >= 1 << 20 else f"{size / 1024:.3g} KiB"


def refusal(label: str, mode: int) -> Refused:
    """Why the entry ``label`` of mode ``mode`` is not a file the grader reads."""
    if stat.S_ISDIR(mode):
        return Refused(f"{label} is a folder, not a file; hand in the module itself")
    if stat.S_ISLNK(mode):
        return Refused(f"{label} is a symbolic link; hand in the file itself, not a link to it")
    if stat.S_ISREG(mode):
        return Refused(f"{label} is a file where a folder should be")
    return Refused(f"{label} is not a regular file (a pipe, a device or a socket); hand in the module as a file")


@dataclass
class SubmissionFolder:
    """A folder of a submission, opened once without following a link; its files are read by plain name."""

    fd: int
    label: str

    @classmethod
    def open(cls, path: Path, follow: bool = True) -> SubmissionFolder:
        """The folder at ``path``. ``follow``: the path was chosen by whoever runs the grader (a command-line
        argument), so a link there is theirs and is resolved; every folder found inside a submission is opened
        with ``follow=False`` (:meth:`subfolder`)."""
        target = path.resolve() if follow else path
        try:
            fd = os.open(target, FOLDER_FLAGS)
        except FileNotFoundError:
            raise Refused(f"{path}: no such folder; give the folder that holds the modules") from None
        except NotADirectoryError:
            raise Refused(f"{path}: a file, not a folder; give the folder that holds it") from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise Refused(f"{path} is a symbolic link; a submission's folders must be real folders") from None
            raise Refused(f"{path}: cannot be opened ({error.strerror})") from None
        return cls(fd, str(path))

    def __enter__(self) -> SubmissionFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def entries(self, limit: int = MAX_ENTRIES) -> list[tuple[str, int]]:
        """The names and ``lstat`` modes of this folder's entries, sorted, at most ``limit`` of them (links are
        reported as links, never followed)."""
        found: list[tuple[str, int]] = []
        with os.scandir(self.fd) as listing:
            for entry in listing:
                if len(found) == limit:
                    break
                found.append((entry.name, entry.stat(follow_symlinks=False).st_mode))
        return sorted(found)

    def subfolder(self, name: str, label: str | None = None) -> SubmissionFolder:
        """The folder ``name`` inside this one (called ``label`` in messages; by default its path), refused when it
        is a link or not a folder."""
        label = label or f"{self.label}/{name}"
        try:
            fd = os.open(plain_name(name), FOLDER_FLAGS, dir_fd=self.fd)
        except OSError as error:
            raise self._refused(name, label, error) from None
        return SubmissionFolder(fd, label)

    def holds(self, name: str, limit: int) -> bool:
        """Whether ``name`` is a regular file here that :meth:`read` would read (at most ``limit`` bytes), told from
        its ``lstat`` alone, without opening it."""
        try:
            status = os.stat(plain_name(name), dir_fd=self.fd, follow_symlinks=False)
        except OSError:
            return False
        return stat.S_ISREG(status.st_mode) and status.st_size <= limit

    def read(self, name: str, limit: int) -> bytes | None:
        """The bytes of the regular file ``name`` in this folder; None when there is no such entry; :class:`Refused`
        for a link, a folder, anything but a regular file, or a file over ``limit`` bytes."""
        label = name
        try:
            fd = os.open(plain_name(name), FILE_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._refused(name, label, error) from None
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise refusal(label, status.st_mode)
            if status.st_size > limit:
                raise too_large(label, status.st_size, limit)
            data = read_at_most(fd, limit + 1)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise too_large(label, len(data), limit)
        return data

    def _refused(self, name: str, label: str, error: OSError) -> Refused:
        """The refusal for an ``open`` of ``name`` that failed with ``error``."""
        if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR):
            try:
                mode = os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mode
            except OSError:
                mode = stat.S_IFLNK
            return refusal(label, mode)
        if error.errno == errno.ENOENT:
            return Refused(f"{label}: no such file or folder")
        return Refused(f"{label} cannot be read ({error.strerror}); hand in a readable file")


def read_at_most(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes of the open file ``fd``."""
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def too_large(label: str, size: int, limit: int) -> Refused:
    return Refused(
        f"{label} is too large ({human(size)}; a module may have at most {human(limit)}); "
        "hand in only your code, without data or outputs"
    )


@dataclass(frozen=True)
class ModuleFile:
    """A module as handed in: the file it came from and its Python source, with notes for the student."""

    name: str
    filename: str
    source: str
    notes: list[str]


def decoded(filename: str, data: bytes) -> str:
    """``data`` as UTF-8 text, or :class:`Refused` naming ``filename``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{filename} is not UTF-8 text; save it as UTF-8") from None


def module_files(stem: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """The files that may hold module ``stem``, the preferred first, each with its size cap."""
    return (f"{stem}.py", MAX_SCRIPT_BYTES), (f"{stem}.ipynb", MAX_NOTEBOOK_BYTES)


def read_module(folder: SubmissionFolder, stem: str) -> ModuleFile | None:
    """Module ``stem`` of a submission folder: ``<stem>.py``, else ``<stem>.ipynb`` turned into the module it
    defines; None when neither is there; :class:`Refused` when the one there cannot be graded."""
    from grader.notebook import NotebookError, notebook_source  # nbformat, only for notebooks

    (script, script_limit), (notebook, notebook_limit) = module_files(stem)
    data = folder.read(script, script_limit)
    if data is not None:
        both = folder.holds(notebook, notebook_limit)
        notes = [f"found both {script} and {notebook}; graded {script}"] if both else []
        return ModuleFile(stem, script, decoded(script, data), notes)
    data = folder.read(notebook, notebook_limit)
    if data is None:
        return None
    try:
        source, notes = notebook_source(notebook, decoded(notebook, data))
    except NotebookError as error:
        raise Refused(str(error)) from None
    if len(source.encode()) > MAX_SCRIPT_BYTES:
        raise too_large(f"the code of {notebook}", len(source.encode()), MAX_SCRIPT_BYTES)
    return ModuleFile(stem, notebook, source, [f"{notebook}: {note}" for note in notes])
