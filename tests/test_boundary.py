"""The untrusted side of the boundary imports nothing of the trusted side.

What runs inside the sandbox (the zygote, the worker and the wire format they speak) is mounted there read-only and
imported by the student's process: a trusted module reachable from it would put the grader's code, and whatever it
holds, within the student's reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parent.parent / "grader"
UNTRUSTED = {"grader.zygote", "grader.worker", "grader.wire"}
"""The modules that run inside the sandbox, as the zygote imports them."""


def grader_imports(module: str) -> set[str]:
    """The ``grader`` modules that ``module`` imports, at any depth of its source (functions included)."""
    tree = ast.parse((GRADER / f"{module.removeprefix('grader.')}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "grader"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "grader":
            found |= {f"{node.module}.{alias.name}" if node.module == "grader" else node.module for alias in node.names}
    return found


@pytest.mark.parametrize("module", sorted(UNTRUSTED))
def test_the_untrusted_side_imports_only_itself(module: str):
    assert grader_imports(module) <= UNTRUSTED, grader_imports(module) - UNTRUSTED


def test_the_zygote_boots_from_the_untrusted_side():
    """The sandbox's command line imports the zygote, and the zygote reaches the worker and the wire only."""
    assert grader_imports("grader.zygote") == {"grader.wire", "grader.worker"}
