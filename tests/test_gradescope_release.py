"""grader release --format gradescope: one autograder.zip per assignment (or one for all with --single-zip), laid out
as Gradescope's specification asks, whose run_autograder grades a submission laid out as Gradescope lays it out
and writes a results.json of Gradescope's documented format."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner
from conftest import ROOT
from pydantic import BaseModel, ConfigDict, Field
from test_release_scan import ASSIGNMENTS

from grader.cli import main
from grader.formats.gradescope import FAILED
from grader.release.wheel import build_wheel

DocumentedVisibility = Literal["hidden", "after_due_date", "after_published", "visible"]
DocumentedFormat = Literal["text", "html", "simple_format", "md", "ansi"]


class Documented(BaseModel):
    """Gradescope's autograder results format as documented (gradescope-autograders.readthedocs.io, "Autograder
    Specifications"), written here from the documentation, not from our writer: no other key, no other value."""

    model_config = ConfigDict(extra="forbid", strict=True)


class DocumentedTest(Documented):
    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    name: str | None = None
    name_format: DocumentedFormat | None = None
    number: str | None = None
    output: str | None = None
    output_format: DocumentedFormat | None = None
    tags: list[str] | None = None
    visibility: DocumentedVisibility | None = None
    extra_data: dict[str, Any] | None = None


class DocumentedEntry(Documented):
    name: str
    value: float | str
    order: Literal["asc", "desc"] | None = None


class DocumentedResults(Documented):
    score: float | None = None
    execution_time: float | None = Field(None, ge=0)
    output: str | None = None
    output_format: DocumentedFormat | None = None
    test_output_format: DocumentedFormat | None = None
    test_name_format: DocumentedFormat | None = None
    visibility: DocumentedVisibility | None = None
    stdout_visibility: DocumentedVisibility | None = None
    extra_data: dict[str, Any] | None = None
    tests: list[DocumentedTest] | None = None
    leaderboard: list[DocumentedEntry] | None = None


def documented(text: str) -> dict[str, Any]:
    """``results.json``'s text as a dict, once it is checked to be Gradescope's documented format: a score at the
    top or on every test, and whatever the student must see shown to them."""
    results = json.loads(text)
    checked = DocumentedResults.model_validate_json(text)
    assert checked.score is not None or all(t.score is not None for t in checked.tests or [])
    assert checked.stdout_visibility in (None, "hidden"), "the autograder's output is the instructor's"
    return results


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def release(out: Path, wheel: Path, *args: str) -> Path:
    """``grader release --format gradescope ARGS`` of this checkout's course into ``out``."""
    command = ["release", "--format", "gradescope", "--out", str(out), "--wheel", str(wheel), "--course", str(ROOT)]
    result = CliRunner().invoke(main, [*command, *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def autograders(tmp_path_factory, wheel) -> Path:
    """The whole course released as Gradescope autograders, one per assignment."""
    return release(tmp_path_factory.mktemp("gradescope"), wheel)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory, wheel) -> Path:
    """The whole course in one autograder (``--single-zip``)."""
    return release(tmp_path_factory.mktemp("gradescope-one"), wheel, "--single-zip") / "autograder.zip"


def unpack(autograder: Path, root: Path) -> Path:
    """``root`` laid out as Gradescope builds its image: the zip in source/, run_autograder copied to the root."""
    with zipfile.ZipFile(autograder) as archive:
        for info in archive.infolist():
            archive.extract(info, root / "source")
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, stat.S_IMODE(mode))
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, venv: str = sys.prefix) -> dict:
    """Run ``root/run_autograder`` from ``root`` as Gradescope does, with this checkout's virtualenv as the one
    setup.sh would have made; the results.json it wrote, checked against Gradescope's documented format."""
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_VENV": venv}
    env.pop("GRADER_COURSE", None)
    done = subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return documented((root / "results" / "results.json").read_text())


def members(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return set(archive.namelist())


def test_each_assignment_gets_an_autograder_of_its_own_with_only_its_course(autograders):
    assert sorted(p.parent.name for p in autograders.glob("*/autograder.zip")) == ASSIGNMENTS
    assert not (autograders / "autograder.zip").exists()
    for name in ASSIGNMENTS:
        names = members(autograders / name / "autograder.zip")
        assert {"setup.sh", "run_autograder", "constraints.txt", "course/assignments/course.toml"} <= names
        assert f"course/reference/{name}.py" in names and f"course/assignments/{name}/mistakes.py" in names
        others = {n.split("/")[2] for n in names if n.startswith(("course/assignments/", "course/reference/"))}
        assert others <= {name, f"{name}.py", "course.toml"}, f"{name}'s zip carries another assignment: {others}"


def test_the_zip_has_the_scripts_at_its_root_and_the_whole_course_beside_them(autograder):
    with zipfile.ZipFile(autograder) as archive:
        names = set(archive.namelist())
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in archive.infolist()}
        course = tomllib.loads(archive.read("course/assignments/course.toml").decode())
    assert {"setup.sh", "run_autograder", "constraints.txt", "grader-0.1.0-py3-none-any.whl"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert course["seed"] == tomllib.loads((ROOT / "assignments" / "course.toml").read_text())["seed"]
    for name in ASSIGNMENTS:
        assert f"course/reference/{name}.py" in names
        assert f"course/assignments/{name}/mistakes.py" in names
        assert any(n.startswith(f"course/assignments/{name}/tests/hidden/test_") for n in names)
    assert not any("__pycache__" in n for n in names)


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_the_scripts_are_valid_bash(autograder, tmp_path, script):
    with zipfile.ZipFile(autograder) as archive:
        (tmp_path / script).write_bytes(archive.read(script))
    assert subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True).returncode == 0


def test_setup_installs_bubblewrap_torch_s_cpu_build_then_the_pinned_grader_from_the_zip(autograder):
    with zipfile.ZipFile(autograder) as archive:
        setup = archive.read("setup.sh").decode()
    assert setup.startswith("#!/usr/bin/env bash\n")
    assert "apt-get install -y -qq bubblewrap" in setup and "command -v bwrap" in setup
    torch = setup.index("pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu\n")
    grader = setup.index('-c "$source_dir/constraints.txt"')
    assert torch < grader and '"$source_dir"/grader-*.whl' in setup


def test_run_autograder_runs_the_grader_isolated_with_the_visibility_released(autograder, tmp_path, wheel):
    with zipfile.ZipFile(autograder) as archive:
        default = archive.read("run_autograder").decode()
    assert '"$venv/bin/python" -I -m grader.gradescope_autograder --root "$root" 2>&1\n' in default
    hidden = release(tmp_path, wheel, "rnn_forward", "--visibility", "after_published")
    with zipfile.ZipFile(hidden / "rnn_forward" / "autograder.zip") as archive:
        script = archive.read("run_autograder").decode()
    assert '--root "$root" --visibility after_published 2>&1\n' in script
    (tmp_path / "run_autograder").write_text(script)
    assert subprocess.run(["bash", "-n", str(tmp_path / "run_autograder")], capture_output=True).returncode == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "gradescope", "--visibility", "sometimes"], "'sometimes' is not one of"),
        (["--single-zip"], "--single-zip and --visibility go with --format gradescope"),
        (["--visibility", "hidden"], "--single-zip and --visibility go with --format gradescope"),
    ],
)
def test_options_of_gradescope_alone_are_refused_elsewhere(tmp_path, args, says):
    result = CliRunner().invoke(main, ["release", "--out", str(tmp_path / "out"), "--course", str(ROOT), *args])
    assert result.exit_code == 2 and says in result.output, result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('[gradescope]\nvisibility = "later"\n', "gradescope.visibility"),
        ('[gradescope]\ntask_visibility = { nope = "hidden" }\n', "task_visibility names ['nope']"),
        ('[gradescope]\nvisibilty = "hidden"\n', "gradescope.visibilty"),
    ],
)
def test_a_bad_gradescope_table_is_refused_naming_the_file(tmp_path, wheel, table, says):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "rnn_forward", course / "assignments" / "rnn_forward")
    shutil.copy(ROOT / "assignments" / "course.toml", course / "assignments")
    spec = course / "assignments" / "rnn_forward" / "assignment.toml"
    spec.write_text(spec.read_text() + "\n" + table)
    args = ["release", "--format", "gradescope", "--out", str(tmp_path / "out"), "--wheel", str(wheel)]
    result = CliRunner().invoke(main, [*args, "--course", str(course)])
    assert result.exit_code == 2 and str(spec) in result.output and says in result.output, result.output


def test_run_autograder_explains_a_submission_it_cannot_grade(autograder, tmp_path):
    root = unpack(autograder, tmp_path)
    (root / "submission" / "notes.txt").write_text("I could not do it\n")
    results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == [] and results["visibility"] == "visible"
    assert "could not be graded" in results["output"] and "none of the course's modules is here" in results["output"]


def test_run_autograder_still_writes_results_when_the_grader_cannot_start(autograder, tmp_path):
    """A broken image (setup.sh failed, no virtualenv): the script's own results.json, in the documented format,
    says what the grader would say of a failure of its own."""
    root = unpack(autograder, tmp_path)
    shutil.copy(ROOT / "reference" / "rnn_forward.py", root / "submission")
    results = run_autograder(root, venv=str(tmp_path / "no-venv"))
    assert results["score"] == 0 and results["tests"] == []
    assert FAILED in results["output"] and "Traceback" not in results["output"]


@pytest.mark.slow
def test_run_autograder_gives_the_reference_full_marks(autograder, tmp_path):
    root = unpack(autograder, tmp_path)
    for name in ASSIGNMENTS:
        shutil.copy(ROOT / "reference" / f"{name}.py", root / "submission")
    results = run_autograder(root)
    assert results["score"] == 70 == pytest.approx(sum(t["max_score"] for t in results["tests"]))
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in results["tests"])
    assert results["extra_data"]["max_score"] == 70 and results["execution_time"] > 0
    assert {t["visibility"] for t in results["tests"]} == {"after_due_date"}, "hidden tests default to after_due_date"
