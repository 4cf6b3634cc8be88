"""grader release: the student bundle is a course of its own that holds no secret, grades a starter 0 without a
crash and a filled-in bundle full marks, with the public tests and with the hidden ones."""

from __future__ import annotations

import ast
import json
import re
import shutil
import tomllib
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import ROOT
from test_release_scan import ASSIGNMENTS, leaks

from grader.cli import main
from grader.notebook import notebook_to_source
from grader.release.cells import code_cells
from grader.release.wheel import build_wheel
from grader.release.workflows import WORKFLOWS
from grader.spec import default_course
from grader.starter import strip_solutions

FUNCTIONS = {name: list(default_course().assignment(name).spec.functions) for name in ASSIGNMENTS}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, wheel) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    result = CliRunner().invoke(main, ["release", "--out", str(out), "--wheel", str(wheel), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    return out


def run_json(args: list[str]) -> dict:
    result = CliRunner().invoke(main, ["run", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_bundle_is_laid_out_as_a_course_of_its_own(bundle):
    """The course's files a student needs, the starters and, for the feedback's names of a test's inputs, the
    parameters of the starters' functions."""
    released_course = tomllib.loads((bundle / "assignments" / "course.toml").read_text())
    assert released_course == {
        "title": "Recurrent neural networks",
        "public_tests": {name: [f"test_{name}_public.py"] for name in ASSIGNMENTS},
    }
    for name in ASSIGNMENTS:
        source, released = ROOT / "assignments" / name, bundle / "assignments" / name
        for file in ["assignment.toml", "handout.md", f"tests/public/test_{name}_public.py"]:
            assert (released / file).read_bytes() == (source / file).read_bytes(), file
        assert not (released / "tests" / "hidden").exists()
        reference = (ROOT / "reference" / f"{name}.py").read_text()
        assert (bundle / f"{name}.py").read_text() == strip_solutions(reference)
        top_level = ast.parse((bundle / f"{name}.py").read_text()).body
        starter = {f.name: [a.arg for a in f.args.args] for f in top_level if isinstance(f, ast.FunctionDef)}
        for cls in (c for c in top_level if isinstance(c, ast.ClassDef)):  # a class's contract is its __init__'s
            init = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
            starter[cls.name] = [a.arg for a in init.args.args][1:]
        functions = [f for f, spec in default_course().assignment(name).spec.functions.items() if not spec.constant]
        assert tomllib.loads((released / "signatures.toml").read_text()) == {f: starter[f] for f in functions}
        module, _ = notebook_to_source(bundle / "notebooks" / f"{name}.ipynb")
        for function in FUNCTIONS[name]:
            assert re.search(rf"\b(def|class) {function}\(|\b{function}\b[^\n=]*=", module), function
    readme = (bundle / "README.md").read_text()
    assert "grader run . --public" in readme and "handout.md" in readme
    assert (bundle / ".github" / "workflows" / WORKFLOWS["classroom"].shipped).is_file()
    assert {p.name for p in (bundle / ".grader").iterdir()} == {"constraints.txt", "grader-0.1.0-py3-none-any.whl"}
    assert (bundle / ".grader" / "constraints.txt").read_bytes() == (ROOT / "constraints.txt").read_bytes()


def test_no_file_of_the_bundle_holds_a_secret(bundle):
    """No hidden test, reference solution line, mistake catalogue, seed or taxonomy answer, in any file, the
    notebooks' cells and the shipped wheel's members included."""
    assert leaks(bundle) == []


def test_a_student_checks_the_starters_with_the_public_tests(bundle, monkeypatch):
    """``grader run . --public`` in the bundle, as the README says: every module graded, 0 points, no crash."""
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(bundle)
    report = run_json([".", "--public"])
    assert (report["score"], report["max_score"], report["tests"]) == (0, 70, "public")
    assert sorted(a["name"] for a in report["assignments"]) == ASSIGNMENTS
    for assignment in report["assignments"]:
        assert assignment["error"] is None
        for task in assignment["tasks"]:
            for test in task["tests"]:
                assert test["status"] == "failed", test["name"]
                assert test["feedback"]["kind"] in ("not_implemented", "value", "type"), test["feedback"]


def test_grader_run_takes_the_bundle_as_its_course(bundle, tmp_path, monkeypatch):
    """The bundle's own assignment.toml decides the points: changed in a copy, the report follows it."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    toml = copy / "assignments" / "taxonomy" / "assignment.toml"
    toml.write_text(toml.read_text().replace("points = 3", "points = 30", 1))
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(copy)
    assert run_json([".", "--public", "-a", "taxonomy"])["max_score"] == 37


def test_a_bundle_grading_itself_runs_nothing_the_student_added(bundle, tmp_path, monkeypatch):
    """``--public`` collects only the public test files the bundle was released with: a test file, a conftest.py, a
    reference and a mistake catalogue the student adds are never imported; without ``--public`` the bundle is no
    course at all."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    marker = tmp_path / "ran"
    evil = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('the grader ran me')\n"
    public = copy / "assignments" / "taxonomy" / "tests" / "public"
    for path in [public / "test_evil.py", public / "conftest.py", copy / "assignments" / "taxonomy" / "mistakes.py"]:
        path.write_text(evil + "import pytest\n@pytest.mark.task('kinds')\ndef test_free():\n    pass\n")
    (copy / "reference").mkdir()
    (copy / "reference" / "taxonomy.py").write_text(evil)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(copy)
    report = run_json([".", "--public", "-a", "taxonomy"])
    assert report["score"] == 0 and not marker.exists()
    names = [test["name"] for a in report["assignments"] for task in a["tasks"] for test in task["tests"]]
    assert names and all(name.startswith("test_taxonomy_public.py::") for name in names)
    hidden = run_json([".", "-a", "taxonomy"])  # without --public: the installed course, never the bundle's
    assert hidden["tests"] == "hidden" and hidden["score"] == 0 and not marker.exists()


def test_a_filled_in_bundle_gets_full_marks_from_the_hidden_and_the_public_tests(bundle, tmp_path, monkeypatch):
    filled = tmp_path / "filled"
    shutil.copytree(bundle, filled)
    for name in ASSIGNMENTS:
        shutil.copy(ROOT / "reference" / f"{name}.py", filled / f"{name}.py")
    hidden = run_json([str(filled), "--course", str(ROOT)])
    assert (hidden["score"], hidden["max_score"], hidden["tests"]) == (70, 70, "hidden")
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(filled)
    public = run_json([".", "--public"])
    assert (public["score"], public["max_score"], public["tests"]) == (70, 70, "public")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_code_cells_keep_the_whole_module(name):
    """Cut into cells and joined again, each reference is the same module; each contract name has its cell, and
    every solution region sits in the cell of a name the student writes."""
    source = (ROOT / "reference" / f"{name}.py").read_text()
    cells = code_cells(source, FUNCTIONS[name])
    assert ast.dump(ast.parse("\n\n".join(c.source for c in cells))) == ast.dump(ast.parse(source))
    assert {c.name for c in cells} >= set(FUNCTIONS[name])
    assert sum(c.source.count("### BEGIN SOLUTION") for c in cells) == source.count("### BEGIN SOLUTION")
    assert all(c.name in FUNCTIONS[name] for c in cells if c.solution)


def test_release_refuses_to_write_into_a_folder_with_files(tmp_path, wheel):
    (tmp_path / "work.py").write_text("# a student's work\n")
    result = CliRunner().invoke(main, ["release", "taxonomy", "--out", str(tmp_path), "--wheel", str(wheel)])
    assert result.exit_code == 2
    assert f"{tmp_path}: exists and is not an empty folder" in result.stderr
    assert (tmp_path / "work.py").read_text() == "# a student's work\n"


def test_release_needs_somewhere_to_write():
    result = CliRunner().invoke(main, ["release", "taxonomy"])
    assert result.exit_code == 2 and "give --out DIR, --hidden-bundle FILE, or both" in result.output


def test_a_new_hidden_key_names_its_variable(tmp_path):
    bundle = tmp_path / "hidden.tar.enc"
    args = ["release", "taxonomy", "--hidden-bundle", str(bundle), "--key-env", "COURSE_KEY", "--course", str(ROOT)]
    result = CliRunner().invoke(main, args, env={"COURSE_KEY": None})
    assert result.exit_code == 0, result.output
    assert f"new key in {bundle}.key: store it as the repository secret COURSE_KEY" in result.stderr
    assert "the next release reads it from $COURSE_KEY" in result.stderr and "${" not in result.stderr


def test_release_names_an_unknown_assignment(tmp_path, wheel):
    result = CliRunner().invoke(main, ["release", "lstm", "--out", str(tmp_path / "b"), "--wheel", str(wheel)])
    assert result.exit_code == 2 and "no assignment 'lstm'" in result.stderr


def test_the_starter_notebooks_are_valid_notebooks(bundle):
    for name in ASSIGNMENTS:
        notebook = nbformat.read(bundle / "notebooks" / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[0].cell_type == "markdown"
        assert sum(c.cell_type == "code" for c in notebook.cells) >= len(FUNCTIONS[name])
