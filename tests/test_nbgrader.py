"""grader release --format nbgrader: source notebooks that nbgrader's own generate_assignment turns into the
student version, whose test cells nbgrader can run (full points on the reference, none on the starter, a share of
them on a partly right answer), and that version, once filled in, gets full marks from grader run."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import ROOT
from nbgrader.nbgraderformat import MetadataValidator
from test_release_scan import ASSIGNMENTS, REGION, leaks

from grader.cli import main
from grader.spec import default_course
from grader.starter import strip_solutions

NBGRADER = Path(sys.executable).with_name("nbgrader")


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory) -> Path:
    """An nbgrader course: what grader released, then nbgrader generate_assignment run on all of it."""
    root = tmp_path_factory.mktemp("nbgrader")
    result = CliRunner().invoke(main, ["release", "--format", "nbgrader", "--out", str(root), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    done = subprocess.run(
        [str(NBGRADER), "generate_assignment", "*", "--no-db", "--force"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return root


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def source(course_dir: Path, name: str) -> nbformat.NotebookNode:
    return read(course_dir / "source" / name / f"{name}.ipynb")


def test_the_course_is_laid_out_as_nbgrader_expects(course_dir):
    assert sorted(p.relative_to(course_dir).as_posix() for p in (course_dir / "source").rglob("*.ipynb")) == [
        f"source/{name}/{name}.ipynb" for name in ASSIGNMENTS
    ]
    assert sorted(p.relative_to(course_dir).as_posix() for p in (course_dir / "release").rglob("*.ipynb")) == [
        f"release/{name}/{name}.ipynb" for name in ASSIGNMENTS
    ]
    config = (course_dir / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'recurrent-neural-networks'" in config
    recorded = json.loads((course_dir / ".grader-release.json").read_text())["sources"]
    assert sorted(recorded) == [f"source/{name}/{name}.ipynb" for name in ASSIGNMENTS]


NO_CELL = {"name_classifier": {"model", "training", "quality"}}
"""The tasks whose public tests all make a model, which a notebook's checks cannot replay: they get no test cell."""


def test_a_task_without_a_test_cell_is_named_with_its_points(course):
    from grader.release.nbgrader import source_notebook

    _, notes = source_notebook(course, course.assignment("name_classifier"))
    for task in NO_CELL["name_classifier"]:
        points = course.assignment("name_classifier").spec.task(task).points
        assert any(f"task {task!r} has no test cell" in note and f"its {points:g} points out" in note for note in notes)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_metadata_is_nbgraders_schema_version_3(course_dir, name):
    """nbgrader's own validator accepts every cell; the solution cells hold exactly the reference's regions, and a
    locked test cell per task is worth the task's points."""
    notebook = source(course_dir, name)
    MetadataValidator().validate_nb(notebook)
    metadata = [cell.metadata.nbgrader for cell in notebook.cells]
    assert all(m["schema_version"] == 3 for m in metadata)
    assert len({m["grade_id"] for m in metadata}) == len(metadata)
    for cell in notebook.cells:
        meta = cell.metadata.nbgrader
        if cell.cell_type == "markdown":
            assert meta["locked"] and not meta["solution"] and not meta["grade"]
        assert meta["solution"] == ("### BEGIN SOLUTION" in cell.source) != meta["locked"]
        assert meta["grade"] == meta["grade_id"].startswith("test_") == cell.source.startswith("# Task ")
    tasks = default_course().assignment(name).spec.tasks
    graded = {m["grade_id"]: m["points"] for m in metadata if m["grade"]}
    assert graded == {f"test_{task.id}": task.points for task in tasks if task.id not in NO_CELL.get(name, ())}
    regions = REGION.findall((ROOT / "reference" / f"{name}.py").read_text())
    solutions = "\n".join(c.source for c in notebook.cells if c.metadata.nbgrader["solution"])
    assert regions and all(region in solutions for region in regions)


def test_the_instructions_are_the_notebooks_own(course_dir):
    """nbgrader students get no README: the instruction cell says what to do and where the public tests are."""
    for name in ASSIGNMENTS:
        (instructions,) = [c.source for c in source(course_dir, name).cells if c.source.startswith("## Your code")]
        assert "README" not in instructions and "test cell" in instructions and "Validate" in instructions


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_nbgrader_releases_the_starter_without_a_solution_and_with_the_tests(course_dir, name):
    released = read(course_dir / "release" / name / f"{name}.ipynb")
    solutions = [c for c in released.cells if c.metadata.nbgrader["solution"]]
    assert solutions and all("raise NotImplementedError()" in c.source for c in solutions)
    assert all(not c.metadata.get("editable", True) for c in released.cells if c.metadata.nbgrader["locked"])
    tests = {c.metadata.nbgrader["grade_id"]: c.source for c in released.cells if c.metadata.nbgrader["grade"]}
    assert tests == {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in source(course_dir, name).cells
        if c.metadata.nbgrader["grade"]
    }


def test_no_released_notebook_holds_a_secret(course_dir):
    assert leaks(course_dir / "release") == []


def run_cells(notebook: nbformat.NotebookNode, cut: bool = False) -> dict[str, object]:
    """Run the notebook's code cells in one namespace, as its kernel does (``cut``: with the solutions cut, as the
    starter); each test cell's value (the points it gives), or the error it stops with."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    given = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(strip_solutions(cell.source) if cut else cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        try:
            with redirect_stdout(io.StringIO()) as printed:
                exec(compile(tree, cell.id, "exec"), namespace)
                value = eval(compile(ast.Expression(last.value), cell.id, "eval"), namespace) if last else None
        except Exception as error:
            value = error
        if cell.metadata.nbgrader["grade"]:
            given[cell.metadata.nbgrader["grade_id"]] = value if not printed.getvalue() else (value, printed.getvalue())
    return given


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_test_cells_give_the_reference_every_point_and_the_starter_none(course_dir, name):
    notebook = source(course_dir, name)
    points = {
        c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
        for c in notebook.cells
        if c.metadata.nbgrader["grade"]
    }
    assert run_cells(notebook) == points
    on_starter = run_cells(notebook, cut=True)
    assert on_starter.keys() == points.keys()
    for grade_id, error in on_starter.items():
        assert isinstance(error, AssertionError) and "no test of this task passed" in str(error), (grade_id, error)


def test_a_test_cell_gives_the_share_of_its_tests_that_pass(course_dir):
    """rnn_cell returning float64 for float32 inputs passes one of its task's two public tests: half the points, and
    the failed test named; rnn_forward, tested in float64 only, still gets all of its points."""
    notebook = source(course_dir, "rnn_forward")
    (cell,) = [c for c in notebook.cells if c.metadata.nbgrader["grade_id"] == "code_rnn_cell"]
    cell.source = cell.source.replace("    return h\n", "    return h.double()\n")
    given = run_cells(notebook)
    assert given["test_cell"] == (
        1.5,
        "failed: test_rnn_cell_matches_torch[dtype1]: rnn_cell: 'h' has the wrong dtype: "
        "got torch.float64, expected torch.float32\n",
    )
    assert given["test_forward"] == 3.0


def grade(folder: Path, *only: str) -> dict:
    args = [arg for name in only for arg in ("-a", name)]
    result = CliRunner().invoke(main, ["run", str(folder), *args, "--course", str(ROOT), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_grader_grades_the_released_notebooks_filled_in_with_full_marks(course_dir, tmp_path):
    """Each released notebook with the reference's code put in its solution cells, saved as <name>.ipynb in a
    submission folder: full marks from the hidden tests; the test cells are not the student's code, and are left
    out without a note."""
    for name in ASSIGNMENTS:
        solutions = {c.metadata.nbgrader["grade_id"]: c.source for c in source(course_dir, name).cells}
        released = read(course_dir / "release" / name / f"{name}.ipynb")
        for cell in released.cells:
            if cell.metadata.nbgrader["solution"]:
                cell.source = solutions[cell.metadata.nbgrader["grade_id"]]
        nbformat.write(released, tmp_path / f"{name}.ipynb")
    report = grade(tmp_path)
    assert (report["score"], report["max_score"]) == (70, 70)
    assert all(a["error"] is None for a in report["assignments"])
    assert [note for a in report["assignments"] for note in a["notes"]] == []


def test_grader_grades_the_released_notebooks_as_they_are_with_zero(course_dir, tmp_path):
    """Unfilled, even taxonomy's, whose constant's solution cell raises at the top level: 0 points, no crash."""
    for name in ("taxonomy", "rnn_forward"):
        (tmp_path / f"{name}.ipynb").write_bytes((course_dir / "release" / name / f"{name}.ipynb").read_bytes())
    report = grade(tmp_path, "taxonomy", "rnn_forward")
    assert (report["score"], report["max_score"]) == (0, 20)
    tests = [t for a in report["assignments"] for task in a["tasks"] for t in task["tests"]]
    assert all(a["error"] is None for a in report["assignments"])
    assert {t["feedback"]["kind"] for t in tests} <= {"not_implemented", "value", "type"}
