"""nbgrader source notebooks: ``source/<assignment>/<name>.ipynb`` for ``nbgrader generate_assignment``.

Cell metadata follows nbgrader's schema version 3 (``nbgrader/nbgraderformat/v3.json``): every cell carries
``{"schema_version": 3, "grade": false, "solution": ..., "locked": ..., "grade_id": ...}``. A code cell holding
the reference's ``### BEGIN SOLUTION`` regions is an autograded answer (``solution: true``, ``grade: false``),
which nbgrader's ClearSolutions turns into ``# YOUR CODE HERE`` / ``raise NotImplementedError()``. Every other
cell, handout and given code alike, is read-only (``locked: true``). The grading itself is this grader's.
"""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from grader.release.cells import CodeCell
from grader.release.notebooks import module_cells, notebook, write_notebook
from grader.spec import Assignment, Course
from grader.starter import BEGIN

SCHEMA_VERSION = 3


def nbgrader_source(source: str) -> str:
    """``source`` with a ``### BEGIN SOLUTION: <stub>`` line split in two, the stub first, since nbgrader only
    knows plain regions (a region is replaced by its ``raise NotImplementedError()`` stub)."""
    lines = []
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin and begin["stub"]:
            lines += [f"{begin['indent']}{begin['stub']}", f"{begin['indent']}### BEGIN SOLUTION"]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def cell_metadata(grade_id: str, solution: bool) -> dict[str, object]:
    """nbgrader's metadata of a cell: an autograded answer when ``solution``, else read-only."""
    return {
        "schema_version": SCHEMA_VERSION,
        "grade": False,
        "solution": solution,
        "locked": not solution,
        "grade_id": grade_id,
    }


def source_notebook(assignment: Assignment, reference: Path) -> NotebookNode:
    """The instructor's nbgrader notebook of ``assignment``: the handout locked, the reference's code with its
    solution regions in solution cells."""
    cells: list[CodeCell] = module_cells(assignment, nbgrader_source(reference.read_text(encoding="utf-8")))
    nb = notebook(assignment, cells)
    for cell in nb.cells:
        cell.metadata.nbgrader = cell_metadata(cell.id.replace("-", "_"), "### BEGIN SOLUTION" in cell.source)
    return nb


def write_nbgrader_sources(course: Course, names: list[str], out: Path) -> list[Path]:
    """``out/source/<name>/<name>.ipynb`` for each assignment named: an nbgrader course's source folder."""
    return [
        write_notebook(
            source_notebook(course.assignment(name), course.reference_module(name)),
            out / "source" / name / f"{name}.ipynb",
        )
        for name in names
    ]
