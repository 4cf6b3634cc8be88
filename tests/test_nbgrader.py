"""grader release --format nbgrader: source notebooks that nbgrader's own generate_assignment turns into the
student version, and that version, once filled in, gets full marks from grader run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import ROOT
from nbgrader.nbgraderformat import MetadataValidator
from test_release_scan import ASSIGNMENTS, REGION, leaks

from grader.cli import main

NBGRADER = Path(sys.executable).with_name("nbgrader")
CONFIG = 'c = get_config()\nc.CourseDirectory.root = {root!r}\nc.CourseDirectory.course_id = "rnn"\n'


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory) -> Path:
    """An nbgrader course: the sources grader released, then nbgrader generate_assignment run on all of them."""
    root = tmp_path_factory.mktemp("nbgrader")
    result = CliRunner().invoke(main, ["release", "--format", "nbgrader", "--out", str(root), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    (root / "nbgrader_config.py").write_text(CONFIG.format(root=str(root)))
    done = subprocess.run(
        [str(NBGRADER), "generate_assignment", "*", "--no-db", "--force"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return root


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_sources_are_laid_out_as_nbgrader_expects(course_dir):
    assert sorted(p.relative_to(course_dir).as_posix() for p in (course_dir / "source").rglob("*.ipynb")) == [
        f"source/{name}/{name}.ipynb" for name in ASSIGNMENTS
    ]
    assert sorted(p.relative_to(course_dir).as_posix() for p in (course_dir / "release").rglob("*.ipynb")) == [
        f"release/{name}/{name}.ipynb" for name in ASSIGNMENTS
    ]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_metadata_is_nbgraders_schema_version_3(course_dir, name):
    """nbgrader's own validator accepts every cell; the solution cells hold exactly the reference's regions."""
    notebook = read(course_dir / "source" / name / f"{name}.ipynb")
    MetadataValidator().validate_nb(notebook)
    metadata = [cell.metadata.nbgrader for cell in notebook.cells]
    assert all(m["schema_version"] == 3 and m["grade"] is False for m in metadata)
    assert len({m["grade_id"] for m in metadata}) == len(metadata)
    for cell in notebook.cells:
        meta = cell.metadata.nbgrader
        if cell.cell_type == "markdown":
            assert meta["locked"] and not meta["solution"]
        assert meta["solution"] == ("### BEGIN SOLUTION" in cell.source) != meta["locked"]
    regions = REGION.findall((ROOT / "reference" / f"{name}.py").read_text())
    solutions = "\n".join(c.source for c in notebook.cells if c.metadata.nbgrader["solution"])
    assert regions and all(region in solutions for region in regions)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_nbgrader_releases_the_starter_without_a_solution(course_dir, name):
    released = read(course_dir / "release" / name / f"{name}.ipynb")
    solutions = [c for c in released.cells if c.metadata.nbgrader["solution"]]
    assert solutions and all("raise NotImplementedError()" in c.source for c in solutions)
    assert all(not c.metadata.get("editable", True) for c in released.cells if c.metadata.nbgrader["locked"])


def test_no_released_notebook_holds_a_secret(course_dir):
    assert leaks(course_dir / "release") == []


def grade(folder: Path, *only: str) -> dict:
    args = [arg for name in only for arg in ("-a", name)]
    result = CliRunner().invoke(main, ["run", str(folder), *args, "--course", str(ROOT), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_grader_grades_the_released_notebooks_filled_in_with_full_marks(course_dir, tmp_path):
    """Each released notebook with the reference's code put in its solution cells, saved as <name>.ipynb in a
    submission folder: full marks from the hidden tests."""
    for name in ASSIGNMENTS:
        source = read(course_dir / "source" / name / f"{name}.ipynb")
        solutions = {c.metadata.nbgrader["grade_id"]: c.source for c in source.cells}
        released = read(course_dir / "release" / name / f"{name}.ipynb")
        for cell in released.cells:
            if cell.metadata.nbgrader["solution"]:
                cell.source = solutions[cell.metadata.nbgrader["grade_id"]]
        nbformat.write(released, tmp_path / f"{name}.ipynb")
    report = grade(tmp_path)
    assert (report["score"], report["max_score"]) == (60, 60)
    assert all(a["error"] is None and not a["notes"] for a in report["assignments"])


def test_grader_grades_the_released_notebooks_as_they_are_with_zero(course_dir, tmp_path):
    """Unfilled, even taxonomy's, whose constant's solution cell raises at the top level: 0 points, no crash."""
    for name in ("taxonomy", "rnn_forward"):
        (tmp_path / f"{name}.ipynb").write_bytes((course_dir / "release" / name / f"{name}.ipynb").read_bytes())
    report = grade(tmp_path, "taxonomy", "rnn_forward")
    assert (report["score"], report["max_score"]) == (0, 20)
    tests = [t for a in report["assignments"] for task in a["tasks"] for t in task["tests"]]
    assert all(a["error"] is None for a in report["assignments"])
    assert {t["feedback"]["kind"] for t in tests} <= {"not_implemented", "value", "type"}
