"""A module as a Jupyter notebook: the handout in Markdown cells, then one code cell per function."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.release.cells import CodeCell, code_cells
from grader.spec import Assignment
from grader.starter import strip_solutions

SECTION = re.compile(r"^(?=## )", re.MULTILINE)
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
YOUR_CODE = "## Your code\n\nFill in every function below, run the cells, then check your work (see README.md)."


def handout_sections(text: str) -> list[str]:
    """The handout cut before each ``## `` heading: its introduction, then one section each."""
    return [part.strip("\n") for part in SECTION.split(text) if part.strip()]


def cell_id(kind: str, name: str | None, number: int) -> str:
    """A stable cell id (nbformat 4.5: letters, digits, - and _), so that a release is reproducible."""
    return f"{kind}-{name or number}".replace(".", "-")


def module_cells(assignment: Assignment, source: str) -> list[CodeCell]:
    """The code cells of ``source``, a module of ``assignment``: each function and constant of the contract alone."""
    return code_cells(source, assignment.spec.functions)


def notebook(assignment: Assignment, cells: list[CodeCell], instructions: str = YOUR_CODE) -> NotebookNode:
    """The handout's sections and ``instructions`` as Markdown cells, then ``cells`` as code cells; no outputs, no
    metadata of nbgrader."""
    markdown = [*handout_sections(assignment.handout.read_text(encoding="utf-8")), instructions]
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = KERNEL
    nb.metadata.language_info = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(text, id=cell_id("handout", None, i)) for i, text in enumerate(markdown, 1)
    ] + [nbformat.v4.new_code_cell(cell.source, id=cell_id("code", cell.name, i)) for i, cell in enumerate(cells, 1)]
    return nb


def starter_notebook(assignment: Assignment, reference: Path) -> NotebookNode:
    """The student's starter notebook: the handout, then the reference's code with every solution region cut."""
    source = strip_solutions(reference.read_text(encoding="utf-8"), str(reference))
    return notebook(assignment, module_cells(assignment, source))


def write_notebook(nb: NotebookNode, path: Path) -> Path:
    """Validate ``nb`` against the notebook schema and write it to ``path``."""
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
