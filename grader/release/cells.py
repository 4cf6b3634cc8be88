"""A module's source cut into notebook code cells: one per top-level function or class, one per named constant
a student writes, and the rest (docstring, imports, given data) together, in source order."""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass

from grader.starter import BEGIN

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class CodeCell:
    """The source of one code cell, the name it defines (None for the shared set-up) and whether it holds a
    ``### BEGIN SOLUTION`` region."""

    source: str
    name: str | None
    solution: bool


def defined_name(node: ast.stmt) -> str | None:
    """The name a top-level statement defines: a def's or class's, or an assignment's single plain target."""
    if isinstance(node, DEFINITIONS):
        return node.name
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return targets[0].id if len(targets) == 1 and isinstance(targets[0], ast.Name) else None


def first_line(node: ast.stmt, lines: list[str]) -> int:
    """The 0-based first line of a statement, decorators and the comment lines right above it included."""
    start = min([d.lineno for d in getattr(node, "decorator_list", [])], default=node.lineno) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def code_cells(source: str, own_cells: Collection[str]) -> list[CodeCell]:
    """``source`` cut before each top-level def or class and each statement defining a name in ``own_cells``;
    consecutive other statements share a cell, and so do consecutive statements defining the same name (a stub,
    then its solution). The cells joined with blank lines give the module back."""
    lines = source.splitlines()
    tree = ast.parse(source)
    starts = [0 if i == 0 else first_line(node, lines) for i, node in enumerate(tree.body)]
    ends = [*starts[1:], len(lines)]
    cells: list[CodeCell] = []
    merge = False
    for node, start, end in zip(tree.body, starts, ends, strict=True):
        text = "\n".join(lines[start:end]).strip("\n")
        solution = any(BEGIN.match(line) for line in lines[start:end])
        name = defined_name(node)
        alone = isinstance(node, DEFINITIONS) or name in own_cells or solution
        if cells and ((merge and not alone) or (alone and name is not None and cells[-1].name == name)):
            previous = cells.pop()
            cells.append(CodeCell(f"{previous.source}\n\n{text}", previous.name, previous.solution or solution))
        else:
            cells.append(CodeCell(text, name if alone else None, solution))
        merge = not alone
    return cells
