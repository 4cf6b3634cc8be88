"""A submission module written as a Jupyter notebook, turned into the Python module it defines.

Only what a module defines is kept: imports, ``def``, ``class`` and assignments (each assignment guarded, so a
demo that raises cannot break the import). Everything else a notebook runs to show its work (calls, prints,
loops, ``if __name__ == "__main__"``), IPython magics and shell lines are dropped, and the student is told so,
cell by cell. Cells are numbered from 1 as they appear in the notebook, markdown cells included, and each
kept cell starts with a ``# cell N`` comment so a traceback can be traced back to its cell.

nbgrader's autograder-test cells (metadata ``nbgrader: {grade: true, solution: false}``) are the instructor's tests,
not the student's code: they are left out silently, never run nor reported. The metadata is the student's to edit, so
a student who marks a cell of their own that way only loses its code, as if they had deleted the cell.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from grader.intake import parse

if TYPE_CHECKING:
    import nbformat

# a line magic or shell escape, possibly assigned: "%matplotlib inline", "!pip install x", "files = !ls"
IPYTHON_LINE = re.compile(r"^(\s*)(?:[A-Za-z_][\w.]*\s*=\s*)?[%!]")
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
MAX_CELLS = 2000
MAX_CODE_CHARS = 1 << 20
"""A notebook's cells, and characters of code (a module's cap), that the grader reads at most."""
MAX_NOTES = 20
NOTE_CHARS = 500


class NotebookError(ValueError):
    """A ``.ipynb`` file that cannot be read as a notebook."""


def read_notebook(filename: str, text: str) -> nbformat.NotebookNode:
    """The notebook ``text`` (of the file ``filename``) as nbformat 4, or a :class:`NotebookError` saying how to fix
    the file."""
    import nbformat  # here, not at the top: it costs a second of start-up, and most submissions are .py files
    from nbformat.reader import NotJSONError

    fix = f"open it in Jupyter and save it again, or submit {Path(filename).stem}.py instead"
    check_size(filename, text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a notebook's quirks (missing cell ids, ...) are not the student's problem
            return nbformat.reads(text, as_version=4)
    except NotJSONError:
        raise NotebookError(f"{filename} is not valid JSON (was it truncated or edited by hand?): {fix}") from None
    except Exception as error:  # nbformat raises ValidationError, KeyError, AttributeError, ... for non-notebooks
        reason = next(iter(str(error).splitlines()), type(error).__name__)[:200]
        raise NotebookError(f"{filename} is not a Jupyter notebook ({reason}): {fix}") from None


def source_chars(source: object) -> int:
    """The characters of a cell's raw ``source`` (a string, or a list of lines)."""
    if isinstance(source, str):
        return len(source)
    return sum(len(line) for line in source if isinstance(line, str)) if isinstance(source, list) else 0


def check_size(filename: str, text: str) -> None:
    """A :class:`NotebookError` when the notebook ``text`` has more than :data:`MAX_CELLS` cells or more than
    :data:`MAX_CODE_CHARS` characters in them: checked on the bare JSON, before nbformat validates it and the grader
    parses each cell (which take seconds for a notebook of 100,000 cells)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError, RecursionError):
        return  # not a notebook: nbformat says why
    if not isinstance(cells, list):
        return
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{filename} has {len(cells)} cells; a notebook may have at most {MAX_CELLS}")
    code = sum(source_chars(cell.get("source")) for cell in cells if isinstance(cell, dict) and cell.get("cell_type"))
    if code > MAX_CODE_CHARS:
        raise NotebookError(f"{filename} has {code} characters in its cells; a notebook may have {MAX_CODE_CHARS}")


def strip_ipython(source: str) -> tuple[str, list[str]]:
    """``source`` with magic and shell lines replaced by ``pass`` (keeping blocks and line numbers), and those lines."""
    lines = source.splitlines()
    skipped = []
    for i, line in enumerate(lines):
        match = IPYTHON_LINE.match(line)
        if match:
            skipped.append(f"line {i + 1} `{line.strip()}`")
            lines[i] = f"{match.group(1)}pass"
    return "\n".join(lines), skipped


def first_line(source: str, node: ast.stmt) -> str:
    """The first line of a statement, shortened for a note."""
    text = next(iter((ast.get_source_segment(source, node) or "").splitlines()), "").strip()
    return text if len(text) <= 60 else text[:57] + "..."


def statement_source(source: str, node: ast.stmt) -> str:
    """The source of a top-level statement, decorators included."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        start = min([d.lineno for d in node.decorator_list], default=node.lineno)
        return "\n".join(source.splitlines()[start - 1 : node.end_lineno])
    return ast.get_source_segment(source, node) or ""


def is_silent(node: ast.stmt) -> bool:
    """A statement that does nothing worth telling the student it was dropped: ``pass``, a bare string, ``...``."""
    return isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def is_test_cell(cell: dict[str, object]) -> bool:
    """An nbgrader autograder-test cell: ``grade`` true and ``solution`` false in its nbgrader metadata."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return isinstance(nbgrader, dict) and nbgrader.get("grade") is True and nbgrader.get("solution") is False


def convert_cell(number: int, source: str) -> tuple[list[str], list[str], list[str]]:
    """A code cell's kept code, its ``from __future__`` imports, and the notes about what was dropped."""
    if source.lstrip().startswith("%%"):
        magic = source.lstrip().split(None, 1)[0]
        return [], [], [f"cell {number}: skipped, it is a {magic} cell magic, which only runs in IPython"]
    notes = []
    try:
        tree = parse(source)
    except SyntaxError:
        source, skipped = strip_ipython(source)
        if skipped:
            notes.append(f"cell {number}: skipped IPython magic and shell lines: {'; '.join(skipped)}")
        try:
            tree = parse(source)
        except SyntaxError as error:
            return (
                [],
                [],
                [*notes, f"cell {number}: skipped, it has a syntax error at line {error.lineno}: {error.msg}"],
            )
    kept, future, dropped = [], [], []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            future.append(statement_source(source, node))
        elif isinstance(node, KEPT):
            kept.append(statement_source(source, node))
        elif isinstance(node, ASSIGNMENTS):
            kept.append(f"try: {statement_source(source, node)}\nexcept Exception: pass")
        elif not is_silent(node):
            dropped.append(f"line {node.lineno} `{first_line(source, node)}`")
    if dropped:
        notes.append(
            f"cell {number}: skipped top-level code that is not an import, def, class or assignment "
            f"(it runs when the notebook runs, not when it is graded): {'; '.join(dropped)}"
        )
    return ([f"# cell {number}", *kept] if kept else []), future, notes


def notebook_source(filename: str, text: str) -> tuple[str, list[str]]:
    """The Python module that the notebook ``text`` (of the file ``filename``) defines, and notes for the student on
    what was left out (at most :data:`MAX_NOTES`, each cut to :data:`NOTE_CHARS` characters)."""
    notebook = read_notebook(filename, text)
    body: list[str] = []
    future: list[str] = []
    notes: list[str] = []
    for number, cell in enumerate(notebook.cells, 1):
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str) or is_test_cell(cell):
            continue
        kept, cell_future, cell_notes = convert_cell(number, cell.source)
        body += [*kept, ""] if kept else []
        future += [f for f in cell_future if f not in future]
        notes += cell_notes
    header = f"# {Path(filename).stem}.py, made by the grader from the code cells of {Path(filename).name}"
    return "\n".join([header, *future, "", *body]), capped_notes(notes)


def capped_notes(notes: list[str]) -> list[str]:
    """``notes`` cut to :data:`MAX_NOTES` of at most :data:`NOTE_CHARS` characters each, saying how many were cut."""
    kept = [note if len(note) <= NOTE_CHARS else note[: NOTE_CHARS - 3] + "..." for note in notes[:MAX_NOTES]]
    left = len(notes) - len(kept)
    return kept + ([f"... and {left} more notes about cells that were skipped"] if left else [])


def notebook_to_source(path: Path) -> tuple[str, list[str]]:
    """:func:`notebook_source` of a notebook file of ours (a released starter); a submission's notebooks are read
    through :func:`grader.intake.read_module`."""
    return notebook_source(path.name, path.read_text(encoding="utf-8"))
