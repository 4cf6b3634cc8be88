"""The grader itself, packaged for a release: a wheel built from the checkout it runs from, and its constraints."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grader
from grader.release.errors import ReleaseError

CHECKOUT = Path(grader.__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "grader")


def checkout_file(name: str) -> Path:
    """A file of the checkout grader runs from (``constraints.txt``, ...), or a :class:`ReleaseError`."""
    path = CHECKOUT / name
    if not path.is_file():
        raise ReleaseError(f"{path}: not found; release from a checkout of grader (it pins the grading environment)")
    return path


def build_wheel(out: Path) -> Path:
    """Build grader's wheel into the folder ``out`` from a copy of the checkout (so no build files land in it)."""
    checkout_file("pyproject.toml")
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
    return next(out.glob("grader-*.whl"))


def copy_wheel(wheel: Path | None, out: Path) -> Path:
    """``wheel`` copied into the folder ``out``, or a wheel built there when ``wheel`` is None."""
    if wheel is None:
        return build_wheel(out)
    if not wheel.is_file() or not wheel.name.startswith("grader-") or wheel.suffix != ".whl":
        raise ReleaseError(f"{wheel}: not a grader wheel; give a grader-<version>-*.whl or leave --wheel out")
    out.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(wheel, out / wheel.name))
