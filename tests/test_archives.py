"""Safe extraction of students' archives, and discovery of a class folder's entries."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from grader.batch.archives import ArchiveError, ArchiveLimits, extract, module_folder
from grader.batch.discover import Entry, discover, prepare, source_hash

NAMES = ["rnn_forward", "gated_cells", "shapes"]


def make_zip(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def make_tar(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


def tar_header(name: str, kind: bytes, size: int = 0) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    return info.tobuf(tarfile.USTAR_FORMAT)


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A tar of ``files``, with its end-of-archive blocks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def repeated_crc(crc: int, block: bytes, times: int) -> int:
    """zlib.crc32 of ``block`` repeated ``times`` times, from ``crc`` on, without reading the copies: appending
    ``block`` maps a CRC affinely, and that map, kept as its images of 0 and of each bit, is raised to ``times``."""
    points = [0, *(1 << bit for bit in range(32))]

    def apply(images: list[int], value: int) -> int:
        result = images[0]
        for bit in range(32):
            if value >> bit & 1:
                result ^= images[bit + 1] ^ images[0]
        return result

    def compose(outer: list[int], inner: list[int]) -> list[int]:
        return [apply(outer, apply(inner, point)) for point in points]

    step, power = [zlib.crc32(block, point) for point in points], points
    while times:
        if times & 1:
            power = compose(step, power)
        step, times = compose(step, step), times >> 1
    return apply(power, crc)


def gzip_repeated(path: Path, head: bytes, block: bytes, times: int, tail: bytes) -> Path:
    """A valid gzip of ``head``, ``block`` ``times`` times and ``tail``, written in a blink however large it
    unpacks: ``block`` is deflated once and its copies written as they are, and the CRC is composed."""

    def deflated(data: bytes, flush: int) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(flush)

    crc = zlib.crc32(tail, repeated_crc(zlib.crc32(head), block, times))
    size = len(head) + len(block) * times + len(tail)
    copy = deflated(block, zlib.Z_SYNC_FLUSH)
    with path.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + deflated(head, zlib.Z_SYNC_FLUSH))
        for _ in range(times):
            out.write(copy)
        out.write(deflated(tail, zlib.Z_FINISH) + struct.pack("<2L", crc, size & 0xFFFFFFFF))
    return path


def huge_member(path: Path, name: str, kind: bytes) -> Path:
    """A 4 MB tar.gz: a member of ``kind`` whose header declares 4 GiB, its 4 GiB of zeros, then a module."""
    tail = tar_bytes({"rnn_forward.py": b"x = 1\n"})
    return gzip_repeated(path, tar_header(name, kind, 4 << 30), bytes(1 << 20), 4 << 10, tail)


@pytest.mark.parametrize("make", [make_zip, make_tar])
def test_a_wrapped_archive_yields_its_module_folder(tmp_path: Path, make):
    archive = make(
        tmp_path / ("s.zip" if make is make_zip else "s.tar.gz"),
        {"alice/rnn_forward.py": b"x = 1\n", "alice/sub/notes.txt": b"hi"},
    )
    target = tmp_path / "out"
    target.mkdir()
    extract(archive, target)
    assert (module_folder(target) / "rnn_forward.py").read_bytes() == b"x = 1\n"


@pytest.mark.parametrize("make", [make_zip, make_tar])
@pytest.mark.parametrize("name", ["../evil.py", "/etc/evil.py", "a/../../evil.py"])
def test_an_entry_escaping_the_target_is_refused(tmp_path: Path, make, name: str):
    archive = make(tmp_path / ("s.zip" if make is make_zip else "s.tar.gz"), {name: b"pwned"})
    target = tmp_path / "deep" / "out"
    target.mkdir(parents=True)
    with pytest.raises(ArchiveError, match="outside the archive"):
        extract(archive, target)
    assert not list(tmp_path.rglob("evil.py"))


@pytest.mark.parametrize("make", [make_zip, make_tar])
def test_links_are_never_created(tmp_path: Path, make):
    archive = make(
        tmp_path / ("s.zip" if make is make_zip else "s.tar.gz"),
        {"rnn_forward.py": b"x = 1\n"},
        links={"secrets.py": "/etc/passwd"},
    )
    target = tmp_path / "out"
    target.mkdir()
    extract(archive, target)
    assert sorted(p.name for p in target.iterdir()) == ["rnn_forward.py"]


def test_caps_on_files_and_bytes(tmp_path: Path):
    many = make_zip(tmp_path / "many.zip", {f"f{i}.py": b"" for i in range(20)})
    with pytest.raises(ArchiveError, match="more than 10 files"):
        extract(many, tmp_path, ArchiveLimits(max_files=10))
    bomb = make_zip(tmp_path / "bomb.zip", {"big.py": b"0" * (3 << 20)})
    with pytest.raises(ArchiveError, match="MiB uncompressed"):
        extract(bomb, tmp_path, ArchiveLimits(max_bytes=1 << 20))


def test_a_corrupt_archive_is_a_clear_error(tmp_path: Path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ArchiveError, match=r"bad\.zip: not a readable archive"):
        extract(tmp_path / "bad.zip", tmp_path)


def test_discover_folders_archives_and_strays(tmp_path: Path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "shapes.py").write_text("x = 1\n")
    make_tar(tmp_path / "bob.tar.gz", {"shapes.py": b"x = 2\n"})
    (tmp_path / "carol.txt").write_text("?")
    (tmp_path / ".DS_Store").write_text("")
    entries = discover(tmp_path)
    assert [(e.student, e.kind) for e in entries] == [("alice", "folder"), ("bob", "archive"), ("carol.txt", "unknown")]
    work = tmp_path / "work"
    work.mkdir()
    assert (prepare(entries[1], work, NAMES).folder / "shapes.py").read_text() == "x = 2\n"
    with pytest.raises(ArchiveError, match="neither a folder nor an archive"):
        prepare(entries[2], work, NAMES)
    before = source_hash(entries[0], NAMES)
    (tmp_path / "alice" / "shapes.py").write_text("x = 3\n")
    assert source_hash(entries[0], NAMES) != before


def test_nbgrader_layout_merges_a_students_assignment_folders(tmp_path: Path):
    for assignment, notebook in (("week1", "rnn_forward.ipynb"), ("week2", "gated_cells.ipynb")):
        folder = tmp_path / "submitted" / "alice" / assignment
        folder.mkdir(parents=True)
        (folder / notebook).write_text("{}")
    (entry,) = discover(tmp_path)
    assert entry.kind == "nbgrader" and entry.student == "alice"
    work = tmp_path / "work"
    work.mkdir()
    prepared = prepare(entry, work, NAMES)
    assert sorted(p.name for p in prepared.folder.iterdir()) == ["gated_cells.ipynb", "rnn_forward.ipynb"]


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [
        ("huge", tarfile.CONTTYPE, "is a contiguous file"),
        ("huge", b"Z", "is a member of unknown type b'Z'"),
        ("huge", tarfile.GNUTYPE_SPARSE, "is a sparse file"),
        ("huge", tarfile.FIFOTYPE, "is a FIFO"),
        ("huge", tarfile.CHRTYPE, "is a character device"),
        ("huge", tarfile.XHDTYPE, "extended tar headers"),
        ("huge", tarfile.GNUTYPE_LONGNAME, "extended tar headers"),
        # a file without a name is skipped, and its data still counted
        ("./", tarfile.REGTYPE, "MiB once uncompressed, headers and skipped entries included"),
    ],
)
def test_a_4_gib_member_is_refused_long_before_its_end(tmp_path: Path, name: str, kind: bytes, reason: str):
    archive = huge_member(tmp_path / "s.tar.gz", name, kind)
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveError, match=reason):
        extract(archive, target)
    assert not list(target.iterdir())


@pytest.mark.parametrize(
    "records",
    [
        {"GNU.sparse.size": "9", "GNU.sparse.numblocks": "1", "GNU.sparse.offset": "0", "GNU.sparse.numbytes": "9"},
        {"GNU.sparse.map": "0,9", "GNU.sparse.size": "9"},
        {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "a.py", "GNU.sparse.realsize": "9"},
    ],
)
def test_a_pax_sparse_file_is_refused(tmp_path: Path, records: dict[str, str]):
    with tarfile.open(tmp_path / "s.tar.gz", "w:gz", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("a.py")
        info.size, info.pax_headers = 512, records
        archive.addfile(info, io.BytesIO(b"1\n0\n9\n".ljust(512, b"\0")))
    with pytest.raises(ArchiveError, match=r"'a\.py' is a sparse file"):
        extract(tmp_path / "s.tar.gz", tmp_path)


def test_300k_folder_entries_are_refused_by_the_entry_cap(tmp_path: Path):
    archive = gzip_repeated(tmp_path / "s.tar.gz", b"", tar_header("d/", tarfile.DIRTYPE) * 1000, 300, bytes(1024))
    with pytest.raises(ArchiveError, match="more than 2000 entries"):
        extract(archive, tmp_path)


@pytest.mark.parametrize("packing", ["tar.gz", "zip"])
def test_folders_count_against_the_entry_cap(tmp_path: Path, packing: str):
    def folders(count: int) -> Path:
        if packing == "zip":
            return make_zip(tmp_path / f"{count}.zip", {f"d{i}/": b"" for i in range(count)})
        return gzip_repeated(tmp_path / f"{count}.tar.gz", b"", tar_header("d/", tarfile.DIRTYPE), count, bytes(1024))

    limits = ArchiveLimits(max_entries=10)
    extract(folders(10), tmp_path, limits)
    with pytest.raises(ArchiveError, match="more than 10 entries"):
        extract(folders(11), tmp_path, limits)


def test_a_hardlink_is_skipped_but_counted(tmp_path: Path):
    link = tarfile.TarInfo("copy.py")
    link.type, link.linkname = tarfile.LNKTYPE, "rnn_forward.py"
    archive = tmp_path / "s.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("rnn_forward.py"), io.BytesIO())
        tar.addfile(link)
    target = tmp_path / "out"
    target.mkdir()
    extract(archive, target, ArchiveLimits(max_entries=2))
    assert [p.name for p in target.iterdir()] == ["rnn_forward.py"]
    with pytest.raises(ArchiveError, match="more than 1 entries"):
        extract(archive, target, ArchiveLimits(max_entries=1))


@pytest.mark.parametrize(
    ("mode", "reason"),
    [(stat.S_IFIFO, "is a FIFO"), (stat.S_IFCHR, "is a character device"), (0o170000, "is a member of unknown type")],
)
def test_a_zip_member_neither_file_folder_nor_link_is_refused(tmp_path: Path, mode: int, reason: str):
    info = zipfile.ZipInfo("device")
    info.external_attr = (mode | 0o644) << 16
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as archive:
        archive.writestr(info, b"")
    with pytest.raises(ArchiveError, match=f"'device' {reason}"):
        extract(tmp_path / "s.zip", tmp_path)


def test_a_zip_with_too_many_entries_is_refused_even_when_its_end_record_understates_them(tmp_path: Path):
    archive = make_zip(tmp_path / "s.zip", {f"d{i}/": b"" for i in range(3000)})
    with pytest.raises(ArchiveError, match="more than 2000 entries"):
        extract(archive, tmp_path)
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<2H", 1, 1)
    archive.write_bytes(data)
    with pytest.raises(ArchiveError, match="more than 2000 entries"):
        extract(archive, tmp_path)


def test_a_zip_directory_too_large_for_its_entries_is_refused(tmp_path: Path):
    archive = make_zip(tmp_path / "s.zip", {f"{i}{'x' * 3000}/": b"" for i in range(5)})
    with pytest.raises(ArchiveError, match="list of entries is over 10 KiB"):
        extract(archive, tmp_path, ArchiveLimits(max_entries=10))


def test_a_zip_bomb_is_cut_off_at_the_byte_cap(tmp_path: Path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bomb, bomb.open("big.py", "w") as member:
        for _ in range(64):
            member.write(bytes(1 << 20))
    assert archive.stat().st_size < 1 << 20
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveError, match="more than 1 MiB uncompressed"):
        extract(archive, target, ArchiveLimits(max_bytes=1 << 20))
    assert (target / "big.py").stat().st_size < 2 << 20


def test_a_zip_member_compressed_with_bzip2_is_refused(tmp_path: Path):
    with zipfile.ZipFile(tmp_path / "s.zip", "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("big.py", bytes(1 << 20))
    with pytest.raises(ArchiveError, match=r"'big\.py' is compressed with bzip2"):
        extract(tmp_path / "s.zip", tmp_path)


def test_an_archive_file_over_the_cap_is_neither_extracted_nor_read_to_be_hashed(tmp_path: Path):
    size = ArchiveLimits().max_archive_bytes + 1
    entries = []
    for name, first in (("a.tar.gz", b"\x1f\x8b"), ("b.zip", b"PK")):
        with (tmp_path / name).open("wb") as sparse:
            sparse.write(first)
            sparse.truncate(size)
        entries.append(Entry(student=name, source=tmp_path / name, kind="archive"))
    with pytest.raises(ArchiveError, match=r"a\.tar\.gz: the archive is over 100 MiB"):
        extract(tmp_path / "a.tar.gz", tmp_path)
    assert source_hash(entries[0], NAMES) == source_hash(entries[1], NAMES)
    small = make_zip(tmp_path / "c.zip", {"a.py": b"x"})
    hashed = source_hash(Entry(student="c", source=small, kind="archive"), NAMES)
    assert hashed == hashlib.sha256(small.read_bytes()).hexdigest()


@pytest.mark.parametrize(("mode", "compression"), [("w:bz2", "bzip2"), ("w:xz", "xz")])
def test_a_tar_compressed_otherwise_than_with_gzip_is_refused_clearly(tmp_path: Path, mode: str, compression: str):
    with tarfile.open(tmp_path / "s.tar.gz", mode) as archive:
        archive.addfile(tarfile.TarInfo("rnn_forward.py"), io.BytesIO())
    with pytest.raises(ArchiveError, match=f"a tar compressed with {compression}, which is not supported"):
        extract(tmp_path / "s.tar.gz", tmp_path)


@pytest.mark.parametrize("name", ["plain.tar.gz", "gzipped.tar", "zipped.tgz"])
def test_the_packing_is_told_by_the_bytes_not_the_suffix(tmp_path: Path, name: str):
    files = {"rnn_forward.py": b"x = 1\n"}
    if name.startswith("plain"):
        (tmp_path / name).write_bytes(tar_bytes(files))
    else:
        (make_zip if name.startswith("zipped") else make_tar)(tmp_path / "made", files).rename(tmp_path / name)
    target = tmp_path / "out"
    target.mkdir()
    extract(tmp_path / name, target)
    assert (target / "rnn_forward.py").read_bytes() == b"x = 1\n"


def pax_tar(path: Path, comments: list[int]) -> Path:
    """A tar.gz of one file for each length in ``comments``, with a pax comment record that long."""
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for i, length in enumerate(comments):
            info = tarfile.TarInfo(f"m{i}.py")
            info.pax_headers = {"comment": "x" * length}
            archive.addfile(info, io.BytesIO())
    return path


def test_extended_headers_over_the_caps_are_refused(tmp_path: Path):
    extract(pax_tar(tmp_path / "fine.tar.gz", [1000] * 10), tmp_path)
    for archive in (pax_tar(tmp_path / "one.tar.gz", [5000]), pax_tar(tmp_path / "all.tar.gz", [3000] * 100)):
        with pytest.raises(ArchiveError, match=r"extended tar headers .* over 4 KiB for one or 256 KiB in all"):
            extract(archive, tmp_path)


def test_chained_long_name_headers_are_a_clear_error(tmp_path: Path):
    long_name = tar_header("././@LongLink", tarfile.GNUTYPE_LONGNAME, 5) + b"name\0".ljust(512, b"\0")
    archive = gzip_repeated(tmp_path / "s.tar.gz", b"", long_name, 400, tar_bytes({"a.py": b"x"}))
    with pytest.raises(ArchiveError, match="not a readable archive"):
        extract(archive, tmp_path)


def test_a_path_nested_too_deep_or_with_a_nul_is_refused(tmp_path: Path):
    with pytest.raises(ArchiveError, match="nested more than 32 levels deep"):
        extract(make_zip(tmp_path / "deep.zip", {"a/" * 40 + "x.py": b""}), tmp_path)
    with tarfile.open(tmp_path / "nul.tar.gz", "w:gz", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("x.py")
        info.pax_headers = {"path": "a\0b.py"}
        archive.addfile(info, io.BytesIO())
    with pytest.raises(ArchiveError, match="has a NUL in its name"):
        extract(tmp_path / "nul.tar.gz", tmp_path)


def test_a_truncated_tar_gz_is_a_clear_error(tmp_path: Path):
    archive = make_tar(tmp_path / "s.tar.gz", {"rnn_forward.py": bytes(range(256)) * 400})
    archive.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(ArchiveError, match="not a readable archive"):
        extract(archive, tmp_path)


def test_links_in_a_class_folder_are_refused_never_followed(tmp_path: Path):
    root = Path(__file__).resolve().parent.parent
    classroom = tmp_path / "class"
    classroom.mkdir()
    (classroom / "mallory").symlink_to(root / "reference")
    (entry,) = discover(classroom)
    assert entry.kind == "link"
    with pytest.raises(ArchiveError, match="a symbolic link"):
        prepare(entry, tmp_path, NAMES)
    nbgrader = tmp_path / "course" / "submitted"
    (nbgrader / "eve").mkdir(parents=True)
    (nbgrader / "eve" / "week1").symlink_to(root / "reference")
    (nbgrader / "trent" / "week1").mkdir(parents=True)
    (nbgrader / "trent" / "week1" / "rnn_forward.py").symlink_to(root / "reference" / "rnn_forward.py")
    (nbgrader / "trent" / "week1" / "shapes.py").write_text("x = 1\n")
    eve, trent = discover(nbgrader.parent)
    for name, entry in (("eve", eve), ("trent", trent)):
        work = tmp_path / name
        work.mkdir()
        prepared = prepare(entry, work, NAMES)
        assert not (work / "rnn_forward.py").exists() and not (work / "gated_cells.py").exists()
        assert source_hash(entry, NAMES) != source_hash(Entry(student="x", source=work, kind="folder"), NAMES)
    assert eve.kind == "nbgrader" and prepared.refused == {
        "rnn_forward": "week1/rnn_forward.py is a symbolic link; hand in the file itself, not a link to it"
    }
    assert (tmp_path / "trent" / "shapes.py").read_text() == "x = 1\n"
    eve_prepared = prepare(eve, tmp_path / "eve", NAMES)
    assert eve_prepared.notes == ["eve/week1 is a symbolic link, so it was not read"] and not eve_prepared.refused


def test_nbgrader_bookkeeping_is_never_read_and_only_modules_are_hashed(tmp_path: Path):
    for week in ("week1", "week2"):
        folder = tmp_path / "submitted" / "alice" / week
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(f"2026-12-01 {week}")
    (tmp_path / "submitted" / "alice" / "week1" / "rnn_forward.py").write_text("x = 1\n")
    (entry,) = discover(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    assert [p.name for p in prepare(entry, work, NAMES).folder.iterdir()] == ["rnn_forward.py"]
    before = source_hash(entry, NAMES)
    (tmp_path / "submitted" / "alice" / "week2" / "timestamp.txt").write_text("later")
    assert source_hash(entry, NAMES) == before
    (tmp_path / "submitted" / "alice" / "week2" / "rnn_forward.py").write_text("x = 2\n")
    with pytest.raises(ArchiveError, match="in two of the student's folders"):
        prepare(entry, tmp_path / "work2", NAMES)
