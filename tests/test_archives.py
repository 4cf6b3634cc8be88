"""Safe extraction of students' archives, and discovery of a class folder's entries."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.batch.archives import ArchiveError, ArchiveLimits, extract, module_folder
from grader.batch.discover import discover, prepare, source_hash


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
    assert (prepare(entries[1], work) / "shapes.py").read_text() == "x = 2\n"
    with pytest.raises(ArchiveError, match="neither a folder nor an archive"):
        prepare(entries[2], work)
    before = source_hash(entries[0])
    (tmp_path / "alice" / "shapes.py").write_text("x = 3\n")
    assert source_hash(entries[0]) != before


def test_nbgrader_layout_merges_a_students_assignment_folders(tmp_path: Path):
    for assignment, notebook in (("week1", "rnn_forward.ipynb"), ("week2", "gated_cells.ipynb")):
        folder = tmp_path / "submitted" / "alice" / assignment
        folder.mkdir(parents=True)
        (folder / notebook).write_text("{}")
    (entry,) = discover(tmp_path)
    assert entry.kind == "nbgrader" and entry.student == "alice"
    work = tmp_path / "work"
    work.mkdir()
    assert sorted(p.name for p in prepare(entry, work).iterdir()) == ["gated_cells.ipynb", "rnn_forward.ipynb"]
