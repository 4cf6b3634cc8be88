"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from grader.spec import Course, default_course
from grader.student import import_module_from

ROOT = Path(__file__).resolve().parent.parent
GRADER = [sys.executable, "-m", "grader"]
"""The grader's command line, run as a student or an instructor would."""

torch.set_num_threads(1)  # as the grader's own processes run (engine, validate, calibrate); xdist runs two of these


@pytest.fixture(scope="session")
def course() -> Course:
    return default_course()


def load_reference(name: str) -> ModuleType:
    """The instructor's reference module ``name``, imported fresh."""
    return import_module_from(ROOT / "reference" / f"{name}.py")
