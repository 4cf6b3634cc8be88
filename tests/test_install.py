"""Installs that fit each user: the student's install is the core package alone, the instructor's tools are the
``grader[instructor]`` extra, help never imports torch, and a grader installed from its wheel runs outside a
checkout. The slow test installs the built wheel into a fresh venv, as a released bundle's README says."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import GRADER, ROOT

import grader.batch.command
import grader.release.wheel
import grader.spec
from grader.cli import COMMANDS, INSTRUCTOR_MODULES, docstring, main
from grader.release.wheel import WHEEL, build_wheel

HEAVY = ("torch", "numpy", "nbgrader", "matplotlib", "distributed")
"""What no help imports."""

PROBE = """
import json, sys
import click
from grader.cli import COMMANDS, main

def helps():
    yield ["--help"]
    yield []
    for name in COMMANDS:
        yield [name, "--help"]
        command = main.get_command(click.Context(main), name)
        for sub in getattr(command, "commands", {}):
            yield [name, sub, "--help"]

imported = {}
for args in helps():
    try:
        main(args, prog_name="grader")
    except SystemExit:
        pass
    imported[" ".join(args)] = [m for m in HEAVY if m in sys.modules]
print(json.dumps(imported))
"""


def test_no_help_imports_torch_numpy_or_nbgrader():
    """``grader --help``, the bare listing and every command's and subcommand's help, in one fresh process: after
    each, none of the heavy modules is loaded."""
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"], capture_output=True, text=True, check=True
    )
    imported = json.loads(done.stdout.splitlines()[-1])
    assert len(imported) > len(COMMANDS)
    assert {args: modules for args, modules in imported.items() if modules} == {}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listing_shows_what_click_makes_of_each_command(name):
    """The summary read from the source is the one the imported command gives, at any width."""
    command = main.get_command(click.Context(main), name)
    assert command is not None and docstring(name)
    for limit in (30, 45, 200):
        assert click.Command(name, help=docstring(name)).get_short_help_str(limit) == command.get_short_help_str(limit)
    assert name in CliRunner().invoke(main, ["--help"]).output


def test_the_instructor_extra_is_what_the_command_line_names():
    """``INSTRUCTOR_MODULES`` is pyproject.toml's ``instructor`` extra, none of which is a core dependency."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = re.compile(r"[A-Za-z0-9_.-]+")
    extra = {name.match(r)[0].lower().replace("-", "_") for r in project["optional-dependencies"]["instructor"]}
    core = {name.match(r)[0].lower() for r in project["dependencies"]}
    assert extra == INSTRUCTOR_MODULES
    assert not extra & core


def test_a_command_that_lacks_the_instructor_extra_exits_2_saying_how_to_install_it(tmp_path, monkeypatch):
    """``grader batch --scheduler`` without distributed: exit 2, the module and the install named."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ModuleNotFoundError
    (tmp_path / "class").mkdir()
    args = ["batch", str(tmp_path / "class"), "--scheduler", "tcp://127.0.0.1:1", "--db", str(tmp_path / "g.sqlite")]
    result = CliRunner().invoke(main, [*args, "--course", str(ROOT)])
    assert result.exit_code == 2, result.output
    assert "grader batch needs distributed" in result.stderr
    assert "pip install 'grader[instructor]'" in result.stderr


def test_any_other_missing_module_is_the_graders_failure(tmp_path, monkeypatch):
    """A module that is no instructor's tool is a broken install or a bug: exit 3 with the traceback."""

    def run_dask(*args: object) -> None:
        import grader_no_such_module  # type: ignore[import-not-found]  # noqa: F401

    monkeypatch.setattr(grader.batch.command, "run_dask", run_dask)
    (tmp_path / "class").mkdir()
    args = ["batch", str(tmp_path / "class"), "--scheduler", "tcp://127.0.0.1:1", "--db", str(tmp_path / "g.sqlite")]
    result = CliRunner().invoke(main, [*args, "--course", str(ROOT)])
    assert result.exit_code == 3, result.output
    assert "internal error" in result.stderr and "grader_no_such_module" in result.stderr


def test_outside_a_checkout_a_command_without_a_course_says_how_to_give_one(tmp_path, monkeypatch):
    """An installed grader's site-packages holds no course: name --course and GRADER_COURSE, not a missing folder."""
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.setattr(grader.spec, "__file__", str(tmp_path / "site-packages" / "grader" / "spec.py"))
    for args in (["run", str(ROOT / "tests" / "submissions" / "typical")], ["validate"], ["release", "--out", "x"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "give --course DIR" in result.stderr and "GRADER_COURSE" in result.stderr
        assert "grader run . --public" in result.stderr


def test_an_installed_grader_releases_only_with_its_wheel_and_writes_nothing_without(tmp_path, monkeypatch):
    """Outside a checkout no wheel can be built: exit 2 naming --wheel and the file, before any file is written."""
    monkeypatch.setattr(grader.release.wheel, "CHECKOUT", tmp_path / "site-packages")
    out = tmp_path / "bundle"
    result = CliRunner().invoke(main, ["release", "taxonomy", "--out", str(out), "--course", str(ROOT)])
    assert result.exit_code == 2, result.output
    assert f"--wheel {WHEEL}" in result.stderr and "an installed package" in result.stderr
    assert list(out.iterdir()) == []


def test_a_wheel_of_another_version_is_refused(tmp_path):
    other = tmp_path / "grader-9.9.9-py3-none-any.whl"
    other.write_bytes(b"a stand-in: refused before anything reads it")
    args = ["release", "taxonomy", "--out", str(tmp_path / "b"), "--wheel", str(other), "--course", str(ROOT)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"not this grader's wheel; give {WHEEL}" in result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_every_file_of_the_package(wheel):
    """Templates, the constraints, the pytest configuration: package data, so an installed grader has them."""
    package = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "grader").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    with zipfile.ZipFile(wheel) as archive:
        assert package - set(archive.namelist()) == set()
        assert archive.read("grader/constraints.txt") == (ROOT / "constraints.txt").read_bytes()


CPU_INDEX = " --index-url https://download.pytorch.org/whl/cpu"
INSTALL = [
    "python3 -m venv .venv",
    "source .venv/bin/activate",
    f"python -m pip install torch==2.13.0{CPU_INDEX}",
    f"python -m pip install -c .grader/constraints.txt .grader/{WHEEL}",
]
"""The bundle README's install, line by line."""


def megabytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


@pytest.mark.slow
def test_a_fresh_venv_with_the_wheel_alone_grades_a_released_bundle(wheel, tmp_path):
    """The README's install run in a released bundle (this Python's venv, and torch from this machine's wheels
    instead of PyTorch's index), then ``grader run . --public`` there: no instructor's tool is installed, and
    help, the public grading and the errors of a student's install all work. Prints the venv's size."""
    bundle = tmp_path / "bundle"
    release = [*GRADER, "release", "--out", str(bundle), "--wheel", str(wheel), "--course", str(ROOT)]
    subprocess.run(release, capture_output=True, text=True, check=True)
    readme = (bundle / "README.md").read_text()
    install, grade = re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
    assert install.splitlines() == INSTALL and grade == "grader run . --public\n"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "GRADER_COURSE", "PYTHONPATH")}

    def bash(*lines: str) -> subprocess.CompletedProcess[str]:
        script = "\n".join(["set -euo pipefail", *lines])
        return subprocess.run(["bash", "-c", script], cwd=bundle, env=env, capture_output=True, text=True, check=False)

    venv = INSTALL[0].replace("python3", shlex.quote(sys.executable))
    done = bash(venv, INSTALL[1], INSTALL[2].replace(CPU_INDEX, ""))  # this machine has no route to PyTorch's index
    assert done.returncode == 0, done.stderr
    site = Path(bash(INSTALL[1], "python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))'").stdout.strip())
    torch_alone = megabytes(site)
    done = bash(INSTALL[1], INSTALL[3])
    assert done.returncode == 0, done.stderr

    listed = bash(INSTALL[1], "python -m pip list --format json")
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "grader" in installed and "torch" in installed
    assert not installed & {*INSTRUCTOR_MODULES, "jupyterlab", "notebook", "dask"}
    total, torch = megabytes(site), megabytes(site / "torch")
    print(
        f"\nfresh venv's site-packages: {total} MB, {total - torch} MB beyond torch/, {total - torch_alone} MB beyond "
        f"torch and its own dependencies; {len(installed)} packages"
    )

    assert "run" in bash(INSTALL[1], "grader --help").stdout
    graded = bash(INSTALL[1], "grader run . --public --format json")
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    assert report["tests"] == "public" and report["incomplete"] == 0 and report["max_score"] > 0
    assert "Traceback" not in graded.stderr

    hidden = bash(INSTALL[1], "grader run .")
    assert hidden.returncode == 2 and "give --course DIR" in hidden.stderr
    course = shlex.quote(str(ROOT))
    released = bash(INSTALL[1], f"grader release taxonomy --course {course} --out ../again")
    assert released.returncode == 2 and f"--wheel {WHEEL}" in released.stderr
    released = bash(INSTALL[1], f"grader release taxonomy --course {course} --out ../again --wheel .grader/{WHEEL}")
    assert released.returncode == 0, released.stderr
    assert (tmp_path / "again" / "taxonomy.py").is_file()
    (tmp_path / "class").mkdir()
    dask = bash(INSTALL[1], f"grader batch ../class --scheduler tcp://127.0.0.1:1 --course {course} --db ../g.sqlite")
    assert dask.returncode == 2 and "pip install 'grader[instructor]'" in dask.stderr
