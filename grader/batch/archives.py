"""Safe extraction of a student's ``.zip`` or ``.tar.gz``: no path leaves the target, no link is created,
and the number and size of files are capped, so a hostile archive costs only its own grade."""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from pydantic import BaseModel, Field

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


class ArchiveLimits(BaseModel):
    max_files: int = Field(500, description="files an archive may hold")
    max_bytes: int = Field(50 << 20, description="bytes all its files may hold together, uncompressed")


class ArchiveError(ValueError):
    """The archive cannot be extracted safely; the message names it and says why."""


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def safe_relative(name: str, archive: Path) -> Path | None:
    """The member's path inside the target, or None for a folder entry; an error for one that would escape."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise ArchiveError(
            f"{archive.name}: the entry {name!r} points outside the archive; re-create the archive "
            "from the folder holding your modules"
        )
    parts = [p for p in posix.parts if p not in ("", ".")]
    return Path(*parts) if parts else None


def zip_members(archive: Path, handle: zipfile.ZipFile) -> Iterator[tuple[str, int, IO[bytes] | None]]:
    for info in handle.infolist():
        mode = info.external_attr >> 16
        regular = not info.is_dir() and not stat.S_ISLNK(mode)
        yield info.filename, info.file_size, handle.open(info) if regular else None


def tar_members(archive: Path, handle: tarfile.TarFile) -> Iterator[tuple[str, int, IO[bytes] | None]]:
    for member in handle:
        yield member.name, member.size, handle.extractfile(member) if member.isfile() else None


def extract(archive: Path, target: Path, limits: ArchiveLimits | None = None) -> None:
    """Extract ``archive`` into the folder ``target``; links and special files are skipped."""
    limits = limits or ArchiveLimits()
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as handle:
                copy_members(archive, zip_members(archive, handle), target, limits)
        else:
            with tarfile.open(archive) as handle:
                copy_members(archive, tar_members(archive, handle), target, limits)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ArchiveError(
            f"{archive.name}: not a readable archive ({error}); upload a .zip or .tar.gz of the "
            "folder holding your modules"
        ) from None


def copy_members(
    archive: Path, members: Iterator[tuple[str, int, IO[bytes] | None]], target: Path, limits: ArchiveLimits
) -> None:
    files = total = 0
    for name, _declared, stream in members:
        relative = safe_relative(name, archive)
        if stream is None or relative is None:
            continue
        files += 1
        if files > limits.max_files:
            raise ArchiveError(f"{archive.name}: more than {limits.max_files} files; submit only your modules")
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        with stream, destination.open("wb") as out:
            while chunk := stream.read(1 << 16):
                total += len(chunk)
                if total > limits.max_bytes:
                    raise ArchiveError(
                        f"{archive.name}: more than {limits.max_bytes >> 20} MiB uncompressed; submit only your modules"
                    )
                out.write(chunk)


def module_folder(folder: Path) -> Path:
    """The folder that holds the modules: ``folder``, or its only subfolder when the archive wrapped them in one."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return module_folder(entries[0])
    return folder
