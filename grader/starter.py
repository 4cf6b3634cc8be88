"""Starters made from the reference: every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region is cut.

nbgrader's convention. A region is replaced, at its own indentation, by ``# YOUR CODE HERE`` and
``raise NotImplementedError()``; a region opened with ``### BEGIN SOLUTION: <code>`` is replaced by
``<code>`` instead (for module-level data, where a raise would break the import).
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<stub>.*\S))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")


class StarterError(ValueError):
    """The reference's solution markers do not pair up."""


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """``source`` with every solution region replaced by its stub."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise StarterError(f"{filename}:{number}: BEGIN SOLUTION inside another solution region")
            inside = True
            indent = begin["indent"]
            stub = [begin["stub"]] if begin["stub"] else ["# YOUR CODE HERE", "raise NotImplementedError()"]
            out.extend(f"{indent}{s}\n" for s in stub)
        elif END.match(line):
            if not inside:
                raise StarterError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise StarterError(f"{filename}: a BEGIN SOLUTION region is never closed with ### END SOLUTION")
    return "".join(out)


def write_starter(reference: Path, target: Path) -> Path:
    """Write the starter of the reference module ``reference`` to ``target`` (a file or a folder)."""
    path = target / reference.name if target.is_dir() else target
    path.write_text(strip_solutions(reference.read_text(encoding="utf-8"), str(reference)), encoding="utf-8")
    return path
