"""Shared fixtures of the project's own tests."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from grader.spec import Course, default_course
from grader.student import import_module_from

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def course() -> Course:
    return default_course()


def load_reference(name: str) -> ModuleType:
    """The instructor's reference module ``name``, imported fresh."""
    return import_module_from(ROOT / "reference" / f"{name}.py")
