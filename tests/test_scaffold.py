"""grader new: a new assignment laid out as the course's others are, which grader validate accepts and the reference
passes through the real command line; a name that is taken or cannot be a module is refused, and nothing is
written."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.cli import main
from grader.exits import UNUSABLE_INPUT
from grader.spec import Course

NAME = "lstm_peephole"
TITLE = 'Peephole "connections" \\ à la Gers'
"""A title with what TOML must escape."""


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A copy of the course: its assignments and references."""
    root = tmp_path / "course"
    for folder in ("assignments", "reference"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def new(course: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new", *args, "--course", str(course)])
    return result.exit_code, result.output


def test_new_writes_an_assignment_laid_out_as_the_others(course: Path):
    code, output = new(course, NAME, "--title", TITLE)
    assert code == 0, output
    folder = course / "assignments" / NAME
    assert files(folder) == {
        path.replace("rnn_forward", NAME) for path in files(course / "assignments" / "rnn_forward")
    }
    spec = tomllib.loads((folder / "assignment.toml").read_text())
    assert (spec["name"], spec["title"]) == (NAME, TITLE)
    assert (folder / "handout.md").read_text().startswith(f"# Assignment: {TITLE}\n")
    assert (course / "reference" / f"{NAME}.py").is_file()
    assert f"grader validate {NAME} --course {course}" in " ".join(output.split())
    assert NAME in Course(course).assignments  # found by its assignment.toml, with nothing else to list it in


def test_validate_accepts_the_new_assignment_as_it_is(course: Path):
    assert new(course, NAME)[0] == 0
    result = CliRunner().invoke(main, ["validate", NAME, "--course", str(course)])
    assert result.exit_code == 0, result.output
    assert "mutation score: 0 / 0 mutants" in result.output


def test_the_catalogue_s_commented_entry_is_caught_and_named_once_uncommented(course: Path):
    assert new(course, NAME)[0] == 0
    catalogue = course / "assignments" / NAME / "mistakes.py"
    lines = catalogue.read_text().splitlines()
    start = lines.index("# catalogue.add(")
    entry = [line.removeprefix("# ") for line in lines[start : lines.index("# )", start) + 1]]
    catalogue.write_text("\n".join([*lines, *entry, ""]))
    result = CliRunner().invoke(main, ["validate", NAME, "--course", str(course)])
    assert result.exit_code == 0, result.output
    assert "mutation score: 1 / 1 mutants caught and named" in result.output


SOLUTIONS = {
    "right": ("y = (W @ x.unsqueeze(-1)).squeeze(-1) + b", 0, "mutation score: 0 / 0"),
    "wrong": ("y = x @ W.T - b", 1, f"the reference fails the public test test_{NAME}_public.py::test_affine_matches"),
}


@pytest.mark.parametrize("kind", sorted(SOLUTIONS))
def test_the_instructor_s_own_solution_is_validated(course: Path, kind: str):
    """The solution region filled in anew: a right one is accepted, a wrong one refused by its failing tests."""
    solution, code, says = SOLUTIONS[kind]
    assert new(course, NAME)[0] == 0
    reference = course / "reference" / f"{NAME}.py"
    reference.write_text(reference.read_text().replace("y = x @ W.T + b", solution))
    result = CliRunner().invoke(main, ["validate", NAME, "--course", str(course)])
    assert result.exit_code == code, result.output
    assert says in result.output


@pytest.mark.slow
def test_grader_run_gives_the_reference_full_marks(course: Path):
    assert new(course, NAME)[0] == 0
    args = ["run", str(course / "reference"), "--course", str(course), "--assignment", NAME, "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [a["name"] for a in report["assignments"]] == [NAME]
    assert report["score"] == report["max_score"] == 1


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("rnn_forward", "assignments/rnn_forward: already exists; choose another name"),
        ("LSTM", "'LSTM' is not a module name: use lowercase letters"),
        ("2_layers", "'2_layers' is not a module name"),
        ("peep-hole", "'peep-hole' is not a module name"),
        ("lambda", "'lambda' is a Python keyword"),
        ("math", "'math' is the name of a module of Python's or an installed one"),
        ("torch", "'torch' is the name of a module of Python's or an installed one"),
    ],
)
def test_a_name_taken_or_not_a_module_is_refused_and_nothing_is_written(course: Path, name: str, says: str):
    before = files(course)
    code, output = new(course, name)
    assert code == UNUSABLE_INPUT
    assert says in " ".join(output.split())
    assert files(course) == before


def test_a_reference_of_that_name_is_not_overwritten(course: Path):
    (course / "reference" / f"{NAME}.py").write_text("# the instructor's draft\n")
    code, output = new(course, NAME)
    assert code == UNUSABLE_INPUT
    assert f"reference/{NAME}.py: already exists" in " ".join(output.split())
    assert not (course / "assignments" / NAME).exists()
    assert (course / "reference" / f"{NAME}.py").read_text() == "# the instructor's draft\n"


def test_a_title_of_several_lines_is_refused(course: Path):
    code, output = new(course, NAME, "--title", "two\nlines")
    assert code == UNUSABLE_INPUT and "--title" in output
    assert not (course / "assignments" / NAME).exists()


def test_a_folder_that_is_not_a_course_is_refused(tmp_path: Path):
    code, output = new(tmp_path, NAME)
    assert code == UNUSABLE_INPUT and "no assignments/ folder" in output
    (tmp_path / "assignments").mkdir()
    code, output = new(tmp_path, NAME)
    assert code == UNUSABLE_INPUT and "course.toml: file not found" in output
    assert files(tmp_path) == set()


def test_a_file_that_cannot_be_written_leaves_nothing_behind(course: Path):
    shutil.rmtree(course / "reference")
    (course / "reference").write_text("not a folder\n")
    code, output = new(course, NAME)
    assert code == UNUSABLE_INPUT
    assert f"reference/{NAME}.py: cannot be written" in " ".join(output.split())
    assert not (course / "assignments" / NAME).exists()
