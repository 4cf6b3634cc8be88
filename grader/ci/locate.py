"""Where a failing function is in the student's own file: its path in the submission and its ``def`` line."""

from __future__ import annotations

import ast
from pathlib import Path

from grader.intake import Refused, SubmissionFolder, parse, read_module


def definition_lines(source: str) -> dict[str, int]:
    """The line of each top-level ``def``, ``class`` and assignment target of ``source`` (the last one wins)."""
    try:
        tree = parse(source)
    except SyntaxError:
        return {}
    lines: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            lines[node.name] = node.lineno
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines.update({t.id: node.lineno for t in targets if isinstance(t, ast.Name)})
    return lines


class Locator:
    """The files of a submission folder, read once: ``where(module, function)`` gives (path, line)."""

    def __init__(self, submission: Path) -> None:
        self.submission = submission
        self.found: dict[str, tuple[Path, dict[str, int]] | None] = {}

    def module(self, name: str) -> tuple[Path, dict[str, int]] | None:
        """The module's file relative to the submission, and its definition lines (none for a notebook); read as
        grading read it (:mod:`grader.intake`), so a refused file is located by name only."""
        if name not in self.found:
            try:
                with SubmissionFolder.open(self.submission) as folder:
                    found = read_module(folder, name)
            except Refused:
                found = None
            if found is None:
                self.found[name] = None
            else:
                path = Path(found.filename)
                self.found[name] = (path, definition_lines(found.source) if path.suffix == ".py" else {})
        return self.found[name]

    def where(self, module: str, function: str | None) -> tuple[str, int | None] | None:
        """The file (as a path relative to the submission) and the line defining ``function``, when known."""
        found = self.module(module)
        if found is None:
            return None
        path, lines = found
        return path.as_posix(), lines.get(function) if function else None
