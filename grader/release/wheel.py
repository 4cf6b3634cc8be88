"""The grader itself, packaged for a release: its wheel and its constraints.

The constraints are package data, so every install has them. A wheel is built only from a checkout of grader (its
``pyproject.toml`` beside the package); an installed grader ships the wheel it was installed from (``--wheel``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import grader
from grader.release.errors import ReleaseError

PACKAGE = Path(grader.__file__).resolve().parent
CHECKOUT = PACKAGE.parent
SOURCES = ("pyproject.toml", "README.md", "grader")
WHEEL = f"grader-{grader.__version__}-py3-none-any.whl"
"""The name of this grader's wheel."""


def constraints_file() -> Path:
    """``constraints.txt``, the pinned grading environment, installed with the package."""
    path = PACKAGE / "constraints.txt"
    if not path.is_file():
        raise ReleaseError(f"{path}: not found; this install of grader is incomplete: reinstall it")
    return path


def is_checkout() -> bool:
    """Whether grader runs from a checkout of its own (editable or not), where its wheel can be built."""
    try:
        project = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return bool(project.get("name") == "grader")


def build_wheel(out: Path) -> Path:
    """Build grader's wheel into the folder ``out`` from a copy of the checkout (so no build files land in it)."""
    if not is_checkout():
        raise ReleaseError(
            f"grader runs from {PACKAGE}, an installed package, and cannot build its own wheel: give the wheel it "
            f"was installed from with --wheel {WHEEL}, or release from a checkout of grader"
        )
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        for name in SOURCES:
            source, target = CHECKOUT / name, Path(tmp) / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, target)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), tmp]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise ReleaseError(f"building grader's wheel from {CHECKOUT} failed:\n{done.stderr.strip()}")
    return out / WHEEL


def copy_wheel(wheel: Path | None, out: Path) -> Path:
    """``wheel`` copied into the folder ``out``, or a wheel built there when ``wheel`` is None. A wheel of another
    version than this grader's is refused: the release's files are this grader's."""
    if wheel is None:
        return build_wheel(out)
    if wheel.name != WHEEL:
        raise ReleaseError(f"{wheel}: not this grader's wheel; give {WHEEL} (grader {grader.__version__})")
    out.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(wheel, out / wheel.name))
