"""The untrusted side of the boundary imports nothing of the trusted side, and the sandbox sees nothing else.

What runs inside the sandbox (``grader/sandbox/inside``: the zygote, the worker, the rules and the protocol they
speak) is mounted there read-only and imported by the student's process: a trusted module reachable from it would
put the grader's code, and whatever it holds, within the student's reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.limits import Limits
from grader.sandbox.bubblewrap import PACKAGE_DIR, bwrap_command

INSIDE = PACKAGE_DIR / "sandbox" / "inside"
UNTRUSTED = {f"grader.sandbox.inside.{path.stem}" for path in INSIDE.glob("*.py") if path.stem != "__init__"}
PACKAGE_MARKERS = {"grader", "grader.sandbox", "grader.sandbox.inside"}


def grader_imports(path: Path) -> set[str]:
    """The ``grader`` modules that the file ``path`` imports, at any depth of its source (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "grader"}
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "grader"):
            assert node.level == 0, f"{path.name}: a relative import; name the module"
            assert node.module is not None
            found |= {f"{node.module}.{a.name}" if node.module in PACKAGE_MARKERS else node.module for a in node.names}
    return found


@pytest.mark.parametrize("path", sorted(INSIDE.glob("*.py")), ids=lambda p: p.name)
def test_the_untrusted_side_imports_only_itself(path: Path):
    assert grader_imports(path) <= UNTRUSTED, grader_imports(path) - UNTRUSTED


def test_the_package_markers_the_sandbox_sees_import_nothing():
    for marker in (PACKAGE_DIR / "__init__.py", PACKAGE_DIR / "sandbox" / "__init__.py", INSIDE / "__init__.py"):
        tree = ast.parse(marker.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)], marker


def test_the_sandbox_mounts_only_the_untrusted_side_of_the_grader():
    command = bwrap_command(1000, Limits())
    mounted = {
        command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind" and str(PACKAGE_DIR) in command[i + 1]
    }
    assert mounted == {str(PACKAGE_DIR / "__init__.py"), str(PACKAGE_DIR / "sandbox" / "__init__.py"), str(INSIDE)}


def test_the_zygote_boots_from_the_untrusted_side():
    """The sandbox runs the zygote, which reaches the worker, its rules and the protocol only."""
    assert grader_imports(INSIDE / "zygote.py") == {
        "grader.sandbox.inside.protocol",
        "grader.sandbox.inside.rules",
        "grader.sandbox.inside.wire",
        "grader.sandbox.inside.worker",
    }
