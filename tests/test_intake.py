"""Reading a submission's files: regular files only, never through a link, never out of the folder, capped."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.engine import SubmissionError, read_modules
from grader.intake import MAX_SCRIPT_BYTES, Refused, SubmissionFolder, parse, read_module
from grader.notebook import MAX_NOTES

ROOT = Path(__file__).resolve().parent.parent


def module(folder: Path, stem: str):
    with SubmissionFolder.open(folder) as opened:
        return read_module(opened, stem)


def write_notebook(path: Path, *sources: str) -> Path:
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    return path


def test_a_script_wins_over_a_notebook_of_the_same_name(tmp_path: Path):
    (tmp_path / "attention.py").write_text("X = 1\n")
    write_notebook(tmp_path / "attention.ipynb", "X = 2")
    found = module(tmp_path, "attention")
    assert found.filename == "attention.py" and found.source == "X = 1\n"
    assert found.notes == ["found both attention.py and attention.ipynb; graded attention.py"]


def test_a_notebook_becomes_the_module_it_defines(tmp_path: Path):
    write_notebook(tmp_path / "attention.ipynb", "X = 2\nprint(X)")
    found = module(tmp_path, "attention")
    assert found.filename == "attention.ipynb" and "X = 2" in found.source
    assert found.notes and found.notes[0].startswith("attention.ipynb: cell 1:")


def test_an_absent_module_is_none(tmp_path: Path):
    assert module(tmp_path, "attention") is None


@pytest.mark.parametrize(
    "target",
    [
        ROOT / "reference" / "rnn_forward.py",
        ROOT / "assignments" / "rnn_forward" / "tests" / "hidden" / "test_rnn_forward_hidden.py",
        ROOT / "assignments" / "course.toml",
        Path("/proc/self/environ"),
        Path("does-not-exist.py"),
    ],
)
@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
def test_a_module_that_is_a_link_is_refused_and_its_target_never_read(tmp_path: Path, target: Path, suffix: str):
    (tmp_path / f"rnn_forward{suffix}").symlink_to(target)
    with pytest.raises(Refused, match=rf"rnn_forward\{suffix} is a symbolic link; hand in the file itself"):
        module(tmp_path, "rnn_forward")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    os.mkfifo(tmp_path / "bptt.py")
    with pytest.raises(Refused, match=r"bptt\.py is not a regular file"):
        module(tmp_path, "bptt")


def test_a_folder_named_like_a_module_is_refused(tmp_path: Path):
    (tmp_path / "bptt.py").mkdir()
    with pytest.raises(Refused, match=r"bptt\.py is a folder, not a file"):
        module(tmp_path, "bptt")


def test_a_module_over_the_cap_is_the_students_too_large_error_and_is_not_read(tmp_path: Path):
    with (tmp_path / "shapes.py").open("wb") as file:
        file.truncate(270 << 20)  # sparse: reading it would take a while, refusing it does not
    with pytest.raises(Refused, match=r"shapes.py is too large \(270 MiB; a module may have at most 1 MiB\)"):
        module(tmp_path, "shapes")
    (tmp_path / "shapes.py").write_bytes(b"#" * MAX_SCRIPT_BYTES)
    assert module(tmp_path, "shapes") is not None


def test_text_that_is_not_utf8_is_refused_with_the_fix(tmp_path: Path):
    (tmp_path / "taxonomy.py").write_bytes(b"X = '\xff'\n")
    with pytest.raises(Refused, match=r"taxonomy\.py is not UTF-8 text; save it as UTF-8"):
        module(tmp_path, "taxonomy")


def test_a_submission_folder_that_is_a_link_inside_a_submission_is_refused(tmp_path: Path):
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "assignment").symlink_to(ROOT / "reference")
    with SubmissionFolder.open(tmp_path / "student") as student, pytest.raises(Refused, match="symbolic link"):
        student.subfolder("assignment")


def test_listing_reports_links_as_links_and_is_capped(tmp_path: Path):
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b").symlink_to(ROOT)
    with SubmissionFolder.open(tmp_path) as folder:
        names = dict(folder.entries())
        assert set(names) == {"a.py", "b"} and len(folder.entries(limit=1)) == 1
    assert os.path.islink(tmp_path / "b")


@pytest.mark.parametrize("name", ["../reference/rnn_forward", "a/b", "..", ""])
def test_only_plain_names_are_read(tmp_path: Path, name: str):
    with SubmissionFolder.open(tmp_path) as folder, pytest.raises(ValueError, match="not a plain file name"):
        folder.read(name, 10)


@pytest.mark.parametrize(
    "source", ["x = " + "1 + " * 300_000 + "1", "x = " + "-" * 300_000 + "1", "x = " + "[" * 300 + "]" * 300, "a\0b"]
)
def test_hostile_source_is_a_syntax_error_not_a_crash(source: str):
    with pytest.raises(SyntaxError):
        parse(source)


def test_a_notebook_with_endless_notes_gets_a_bounded_list(tmp_path: Path):
    write_notebook(tmp_path / "rnn_forward.ipynb", *[f"print({i})" for i in range(500)])
    notes = module(tmp_path, "rnn_forward").notes
    assert len(notes) == MAX_NOTES + 1 and notes[-1].endswith("more notes about cells that were skipped")


def test_refused_modules_are_graded_as_errors_and_the_rest_carries_on(tmp_path: Path):
    (tmp_path / "rnn_forward.py").symlink_to(ROOT / "reference" / "rnn_forward.py")
    (tmp_path / "bptt.py").write_text("X = 1\n")
    modules, unreadable = read_modules(tmp_path, ["rnn_forward", "bptt", "shapes"])
    assert set(modules) == {"bptt"} and set(unreadable) == {"rnn_forward"}
    assert "symbolic link" in unreadable["rnn_forward"]


def test_a_submission_that_is_not_a_folder_is_refused_clearly(tmp_path: Path):
    with pytest.raises(SubmissionError, match="no such folder"):
        read_modules(tmp_path / "missing", ["bptt"])
    (tmp_path / "file").write_text("")
    with pytest.raises(SubmissionError, match="a file, not a folder"):
        read_modules(tmp_path / "file", ["bptt"])
