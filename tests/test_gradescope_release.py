"""grader release --format gradescope: an autograder.zip laid out as Gradescope's specification asks, whose
run_autograder grades a submission laid out as Gradescope lays it out and writes a valid results.json."""

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

import pytest
from click.testing import CliRunner
from conftest import ROOT
from test_release_scan import ASSIGNMENTS

from grader.cli import main
from grader.formats.gradescope import GradescopeResults
from grader.release.wheel import build_wheel


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope")
    wheel = build_wheel(out / "wheel")
    args = ["release", "--format", "gradescope", "--out", str(out), "--wheel", str(wheel), "--course", str(ROOT)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out / "autograder.zip"


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


def run_autograder(root: Path) -> dict:
    """Run ``root/run_autograder`` from ``root`` as Gradescope does, with this checkout's virtualenv as the one
    setup.sh would have made; the results.json it wrote, validated against Gradescope's fields."""
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_VENV": sys.prefix}
    env.pop("GRADER_COURSE", None)
    done = subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    GradescopeResults.model_validate(results)
    return results


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


@pytest.mark.slow
def test_run_autograder_gives_the_reference_full_marks(autograder, tmp_path):
    root = unpack(autograder, tmp_path)
    for name in ASSIGNMENTS:
        shutil.copy(ROOT / "reference" / f"{name}.py", root / "submission")
    results = run_autograder(root)
    assert results["score"] == 60 == pytest.approx(sum(t["max_score"] for t in results["tests"]))
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in results["tests"])
    assert results["extra_data"]["max_score"] == 60


def test_run_autograder_explains_a_submission_it_cannot_grade(autograder, tmp_path):
    root = unpack(autograder, tmp_path)
    (root / "submission" / "notes.txt").write_text("I could not do it\n")
    results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "could not be graded" in results["output"] and "none of the course's modules is here" in results["output"]
