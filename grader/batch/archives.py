"""Safe extraction of a student's ``.zip``, ``.tar.gz`` or ``.tar``: a hostile archive costs only its own grade.

Regular files and folders are extracted; links are skipped, never created; any other member (device, FIFO,
sparse or contiguous file, unknown type) refuses the archive. Every entry, file and byte counts against
``ArchiveLimits``. A tar is gunzipped here, through a reader that counts each byte it yields, and read as a
stream, so no byte of it (headers and skipped members included) escapes the count; a zip's directory is sized
from its end record before zipfile parses it. Paths follow tarfile's data filter, more strictly: an absolute
path or a ``..`` refuses the archive rather than being stripped.
"""

from __future__ import annotations

import io
import lzma
import re
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, BinaryIO, Literal, NoReturn

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
CHUNK = 1 << 16
# tarfile reads an extended header (pax records, a GNU long name) whole and, before Python 3.11.10, parses pax
# records in time quadratic in their size (CVE-2024-6232); it copies global pax records into every later member
HEADER_BYTES = 4 << 10  # one extended header, and the global ones together
EXTENDED_BYTES = 256 << 10  # all extended headers together
EXTENDED_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)
TAR_KINDS = {
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "FIFO",
    tarfile.CONTTYPE: "contiguous file",
    tarfile.GNUTYPE_SPARSE: "sparse file",
}
GZIP_MAGIC = b"\x1f\x8b"
OTHER_COMPRESSIONS = {
    "bzip2": re.compile(rb"BZh[1-9]1AY&SY"),
    "xz": re.compile(rb"\xfd7zXZ\x00"),
    "zstd": re.compile(rb"\x28\xb5\x2f\xfd"),
}
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
ZIP_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
}
ZIP_METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
END_RECORD = struct.Struct("<4s4H2LH")  # signature, disk numbers, entries on this disk and in all, size, offset, ...
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")  # signature, size, versions, disks, entries ... and in all, size, ...
ZIP64_LOCATOR_SIZE = 20
DIRECTORY_ENTRY_BYTES = 1 << 10  # of a zip's central directory, for each entry it may hold
# RuntimeError: an encrypted zip member, an unknown zip method, tar headers chained past the recursion limit
UNREADABLE = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    UnicodeDecodeError,
    RuntimeError,
)

Member = tuple[str, IO[bytes] | None]  # an entry's name, and its data when it is a file to extract


class ArchiveLimits(BaseModel):
    max_entries: int = Field(2000, description="entries an archive may hold: files, folders and links")
    max_files: int = Field(500, description="files an archive may hold")
    max_bytes: int = Field(50 << 20, description="bytes all its files may hold together, uncompressed")
    max_depth: int = Field(32, description="parts a path inside it may have, its folders' and its own name")
    max_archive_bytes: int = Field(100 << 20, description="bytes the archive file itself may hold")

    @property
    def tar_bytes(self) -> int:
        """Bytes a tar may hold uncompressed: its files', 2 KiB an entry for headers and padding, and 1 MiB."""
        return self.max_bytes + self.max_entries * (2 << 10) + (1 << 20)


class ArchiveError(ValueError):
    """The archive cannot be extracted safely; the message names it and says why."""


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def extract(archive: Path, target: Path, limits: ArchiveLimits | None = None) -> None:
    """Extract ``archive`` into the folder ``target``: its files and folders; links are skipped."""
    limits = limits or ArchiveLimits()
    try:
        if archive.stat().st_size > limits.max_archive_bytes:
            raise ArchiveError(
                f"{archive.name}: the archive is over {limits.max_archive_bytes >> 20} MiB; submit only your modules"
            )
        with archive.open("rb") as file:
            packing = archive_format(archive, file.read(16))
            file.seek(0)
            if packing == "zip":
                extract_zip(archive, file, target, limits)
            else:
                extract_tar(archive, file, packing == "gzip", target, limits)
    except UNREADABLE as error:
        raise ArchiveError(
            f"{archive.name}: not a readable archive ({error}); upload a .zip or .tar.gz of the "
            "folder holding your modules"
        ) from None


def archive_format(archive: Path, head: bytes) -> Literal["zip", "gzip", "tar"]:
    """How ``archive`` is packed, from its first bytes; its suffix only tells a damaged zip from a tar."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    for name, magic in OTHER_COMPRESSIONS.items():
        if magic.match(head):
            raise ArchiveError(
                f"{archive.name}: a tar compressed with {name}, which is not supported; re-create it as a "
                ".tar.gz (tar czf) or a .zip"
            )
    return "zip" if archive.name.lower().endswith(".zip") else "tar"


def extract_zip(archive: Path, file: BinaryIO, target: Path, limits: ArchiveLimits) -> None:
    entries, directory = zip_directory(file)
    if entries > limits.max_entries:
        raise too_many_entries(archive, limits)
    if directory > limits.max_entries * DIRECTORY_ENTRY_BYTES:
        raise ArchiveError(
            f"{archive.name}: its list of entries is over {limits.max_entries * DIRECTORY_ENTRY_BYTES >> 10} KiB "
            "(names too long or too many entries); submit only your modules"
        )
    with zipfile.ZipFile(file) as handle:
        copy_members(archive, zip_members(archive, handle), target, limits)


def zip_directory(file: BinaryIO) -> tuple[int, int]:
    """The entries and bytes of a zip's central directory, from the end records zipfile reads them from."""
    size = file.seek(0, io.SEEK_END)
    file.seek(max(0, size - END_RECORD.size - 0xFFFF - ZIP64_LOCATOR_SIZE - ZIP64_END_RECORD.size))
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < END_RECORD.size:
        raise zipfile.BadZipFile("no end of central directory")
    entries, directory = END_RECORD.unpack_from(tail, at)[4:6]
    locator = at - ZIP64_LOCATOR_SIZE
    end64 = locator - ZIP64_END_RECORD.size
    if end64 >= 0 and tail.startswith(b"PK\x06\x07", locator) and tail.startswith(b"PK\x06\x06", end64):
        entries, directory = ZIP64_END_RECORD.unpack_from(tail, end64)[7:9]
    return entries, directory


def zip_members(archive: Path, handle: zipfile.ZipFile) -> Iterator[Member]:
    for info in handle.infolist():
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix mode, as from Windows
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
            raise refused(archive, info.filename, ZIP_KINDS.get(kind, "member of unknown type"))
        if info.is_dir() or kind in (stat.S_IFDIR, stat.S_IFLNK):
            yield info.filename, None
        elif info.compress_type in ZIP_METHODS:  # zipfile inflates these a whole read at a time, unbounded
            raise ArchiveError(
                f"{archive.name}: the entry {info.filename!r} is compressed with {ZIP_METHODS[info.compress_type]}, "
                "which is not supported; re-create the archive with the usual compression (deflate)"
            )
        else:
            yield info.filename, handle.open(info)


def extract_tar(archive: Path, file: BinaryIO, gzipped: bool, target: Path, limits: ArchiveLimits) -> None:
    stream = io.BufferedReader(TarBytes(archive, file, gzipped, limits.tar_bytes), CHUNK)
    with tarfile.open(fileobj=stream, mode="r|", tarinfo=checked_tarinfo(archive)) as handle:
        copy_members(archive, tar_members(archive, handle), target, limits)


class TarBytes(io.RawIOBase):
    """The tar held in ``file``, gunzipped when ``gzipped``; an error once more than ``cap`` bytes are read."""

    def __init__(self, archive: Path, file: BinaryIO, gzipped: bool, cap: int) -> None:
        super().__init__()
        self.archive, self.file, self.cap, self.count = archive, file, cap, 0
        self.inflate = zlib.decompressobj(wbits=31) if gzipped else None  # 31: with gzip's header and trailer

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view:
            data = self.next_bytes(len(view))
            view[: len(data)] = data
        self.count += len(data)
        if self.count > self.cap:
            raise ArchiveError(
                f"{self.archive.name}: more than {self.cap >> 20} MiB once uncompressed, headers and skipped "
                "entries included; submit only your modules"
            )
        return len(data)

    def next_bytes(self, size: int) -> bytes:
        """Up to ``size`` more bytes of the tar; none at its end."""
        if self.inflate is None:
            return self.file.read(size)
        while not self.inflate.eof and (compressed := self.inflate.unconsumed_tail or self.file.read(CHUNK)):
            if data := self.inflate.decompress(compressed, size):
                return data
        return b""


class HeaderCheck:
    """Refuses a tar's sparse member, or its extended headers over ``HEADER_BYTES`` or ``EXTENDED_BYTES``."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.spent = self.spent_globally = 0

    def header(self, header: tarfile.TarInfo) -> None:
        if header.type == tarfile.GNUTYPE_SPARSE:
            raise refused(self.archive, header.name, TAR_KINDS[header.type])
        if header.type not in EXTENDED_TYPES:
            return
        self.spent += header.size
        self.spent_globally += header.size if header.type == tarfile.XGLTYPE else 0
        if max(header.size, self.spent_globally) > HEADER_BYTES or self.spent > EXTENDED_BYTES:
            raise ArchiveError(
                f"{self.archive.name}: its extended tar headers (pax records, long names) are over "
                f"{HEADER_BYTES >> 10} KiB for one or {EXTENDED_BYTES >> 10} KiB in all; re-create it without "
                "extended attributes (tar --no-xattrs) or as a .zip"
            )


def checked_tarinfo(archive: Path) -> type[tarfile.TarInfo]:
    """A TarInfo class that has a ``HeaderCheck`` look at each header of ``archive`` before tarfile reads on."""
    check = HeaderCheck(archive)

    class CheckedTarInfo(tarfile.TarInfo):
        def _proc_member(self, handle: tarfile.TarFile) -> tarfile.TarInfo:  # tarfile's hook for subclasses
            check.header(self)
            return super()._proc_member(handle)  # type: ignore[misc]

        def _proc_gnusparse(self, member: tarfile.TarInfo, *_: object) -> NoReturn:
            raise refused(archive, member.name, "sparse file")

        _proc_gnusparse_00 = _proc_gnusparse_01 = _proc_gnusparse_10 = _proc_gnusparse  # pax's sparse maps

    return CheckedTarInfo


def tar_members(archive: Path, handle: tarfile.TarFile) -> Iterator[Member]:
    for member in handle:
        if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
            yield member.name, handle.extractfile(member)
        elif member.type in (tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE):
            yield member.name, None
        else:
            raise refused(archive, member.name, TAR_KINDS.get(member.type, f"member of unknown type {member.type!r}"))


def copy_members(archive: Path, members: Iterator[Member], target: Path, limits: ArchiveLimits) -> None:
    """Write the members' files under ``target``, counting each entry, file and byte against ``limits``."""
    files = total = 0
    for entries, (name, stream) in enumerate(members, 1):
        if entries > limits.max_entries:
            raise too_many_entries(archive, limits)
        relative = safe_relative(name, archive, limits.max_depth)
        if stream is None or relative is None:
            continue
        files += 1
        if files > limits.max_files:
            raise ArchiveError(f"{archive.name}: more than {limits.max_files} files; submit only your modules")
        total += copy_file(stream, target / relative, limits.max_bytes - total)
        if total > limits.max_bytes:
            raise ArchiveError(
                f"{archive.name}: more than {limits.max_bytes >> 20} MiB uncompressed; submit only your modules"
            )


def copy_file(stream: IO[bytes], destination: Path, room: int) -> int:
    """Copy ``stream`` to ``destination``, stopping once past ``room`` bytes; the bytes copied."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    copied = 0
    with stream, destination.open("wb") as out:
        while copied <= room and (chunk := stream.read(CHUNK)):
            out.write(chunk)
            copied += len(chunk)
    return copied


def safe_relative(name: str, archive: Path, max_depth: int) -> Path | None:
    """The member's path inside the target, or None for the target itself; an error for one that would escape."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise ArchiveError(
            f"{archive.name}: the entry {name!r} points outside the archive; re-create the archive "
            "from the folder holding your modules"
        )
    if "\0" in name:
        raise ArchiveError(f"{archive.name}: the entry {name!r} has a NUL in its name; rename it and re-create it")
    parts = [p for p in posix.parts if p not in ("", ".")]
    if len(parts) > max_depth:
        raise ArchiveError(
            f"{archive.name}: the entry {name!r} is nested more than {max_depth} levels deep; submit only your modules"
        )
    return Path(*parts) if parts else None


def refused(archive: Path, name: str, kind: str) -> ArchiveError:
    return ArchiveError(
        f"{archive.name}: the entry {name!r} is a {kind}, neither a file, a folder nor a link; re-create the "
        "archive from the folder holding your modules"
    )


def too_many_entries(archive: Path, limits: ArchiveLimits) -> ArchiveError:
    return ArchiveError(
        f"{archive.name}: more than {limits.max_entries} entries (files, folders and links); submit only your modules"
    )


def module_folder(folder: Path) -> Path:
    """The folder that holds the modules: ``folder``, or its only subfolder when the archive wrapped them in one."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return module_folder(entries[0])
    return folder
