"""Notebook submissions become the module their code cells define, with a note for everything left out."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.notebook import NotebookError, notebook_to_source

CELLS = [
    new_markdown_cell("# Taxonomy\nDefine `PROBLEM_KINDS` and `double`. `print(1)` here is markdown."),
    new_code_cell("%matplotlib inline\n!pip install torch\nimport math\nfrom __future__ import annotations"),
    new_code_cell(
        'PROBLEM_KINDS: dict[str, str] = {\n    "image_captioning": "one_to_many",\n'
        '    "sentiment_analysis": "many_to_one",\n}\nSCALE = 2'
    ),
    new_code_cell(
        "def double(x):\n    !echo inside\n    return SCALE * x\n\n\n@staticmethod\ndef decorated():\n    return 1\n\n"
        "class Cell:\n    size = 3"
    ),
    new_code_cell("print(double(2))\nfor i in range(3):\n    double(i)\nresult = double(4); total = 0"),
    new_code_cell("demo = double(None) + 1\nbroken = 1 / 0\nAFTER = math.sqrt(SCALE * 8)"),
    new_code_cell("%%timeit\ndouble(3)"),
    new_code_cell("def oops(:\n    pass"),
    new_code_cell('if __name__ == "__main__":\n    print(double(5))\n"""a note to self"""\npass'),
    new_code_cell(""),
]


def write(path: Path, cells: list) -> Path:
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def converted(tmp_path: Path) -> tuple[str, list[str]]:
    return notebook_to_source(write(tmp_path / "taxonomy.ipynb", CELLS))


def run(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "taxonomy.py", "exec"), namespace)
    return namespace


def test_the_module_compiles_and_defines_what_the_cells_define(converted):
    namespace = run(converted[0])
    assert namespace["PROBLEM_KINDS"] == {"image_captioning": "one_to_many", "sentiment_analysis": "many_to_one"}
    assert namespace["double"](3) == 6
    assert namespace["decorated"]() == 1
    assert namespace["Cell"].size == 3
    assert namespace["math"].pi == pytest.approx(3.14159, abs=1e-5)
    assert namespace["AFTER"] == 4.0, "an assignment after a failing demo still runs"


def test_failing_demo_assignments_do_not_break_the_module(converted):
    namespace = run(converted[0])
    assert "demo" not in namespace and "broken" not in namespace
    assert namespace["result"] == 8 and namespace["total"] == 0


def test_demo_code_is_dropped_with_a_note_naming_the_cell(converted):
    source, notes = converted
    assert "print(" not in source and "for i in" not in source and "__main__" not in source
    [note] = [n for n in notes if n.startswith("cell 5:")]
    assert "line 1 `print(double(2))`" in note and "line 2 `for i in range(3):`" in note
    [note] = [n for n in notes if n.startswith("cell 9:")]
    assert "__main__" in note and "a note to self" not in note, "strings and pass are dropped silently"


def test_magics_and_shell_lines_are_skipped_with_a_note(converted):
    source, notes = converted
    assert "%matplotlib" not in source and "!pip" not in source and "!echo" not in source
    assert any(n.startswith("cell 2:") and "`%matplotlib inline`" in n and "`!pip install torch`" in n for n in notes)
    assert any(n.startswith("cell 4:") and "`!echo inside`" in n for n in notes)
    assert any(n.startswith("cell 7:") and "%%timeit" in n for n in notes)
    assert "double(3)" not in source


def test_a_syntax_error_skips_its_cell_only(converted):
    source, notes = converted
    assert any(n.startswith("cell 8:") and "syntax error at line 1" in n for n in notes)
    assert "oops" not in source


def test_markdown_is_ignored_and_cells_are_marked(converted):
    source, notes = converted
    assert "Taxonomy" not in source and not any(n.startswith("cell 1:") for n in notes)
    assert "# cell 3" in source and "# cell 8" not in source and "# cell 10" not in source
    assert source.index("# cell 3") < source.index("PROBLEM_KINDS") < source.index("# cell 4")


def test_future_imports_move_to_the_top(converted):
    source, _ = converted
    code = [line for line in source.splitlines() if line and not line.startswith("#")]
    assert code[0] == "from __future__ import annotations"


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{not json", "not valid JSON"), ('{"cells": 3}', "not a Jupyter notebook"), ("[1, 2]", "not a Jupyter notebook")],
)
def test_unreadable_notebooks_raise_a_clear_error(tmp_path: Path, content: str, expected: str):
    path = tmp_path / "bptt.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookError, match=expected) as error:
        notebook_to_source(path)
    assert "bptt.ipynb" in str(error.value) and "submit bptt.py instead" in str(error.value)


def test_an_older_minor_version_is_read(tmp_path: Path):
    notebook = new_notebook(cells=[new_code_cell("X = 1")])
    notebook.nbformat_minor = 0
    for cell in notebook.cells:
        del cell["id"]
    path = tmp_path / "shapes.ipynb"
    nbformat.write(notebook, path)
    assert run(notebook_to_source(path)[0])["X"] == 1


@pytest.mark.parametrize(
    ("cells", "expected"),
    [(2001, "has 2001 cells; a notebook may have at most 2000"), (2, "characters in its cells")],
)
def test_a_notebook_too_big_to_read_is_refused_before_it_is_parsed(tmp_path: Path, cells: int, expected: str):
    source = "x = 1" if cells > 2 else "x = 1\n" * 200_000
    path = write(tmp_path / "rnn_forward.ipynb", [new_code_cell(source) for _ in range(cells)])
    with pytest.raises(NotebookError, match=expected):
        notebook_to_source(path)


def nbgrader_cell(source: str, metadata: object) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata.nbgrader = metadata
    return cell


def test_nbgrader_test_cells_are_left_out_silently(tmp_path: Path):
    """The instructor's autograder tests are not the student's code; solution cells and other metadata are kept."""
    test = {"grade": True, "solution": False, "locked": True, "grade_id": "test_double", "points": 2}
    cells = [
        nbgrader_cell("def double(x):\n    return 2 * x", {"grade": False, "solution": True, "grade_id": "code"}),
        nbgrader_cell("assert double(2) == 4\ndef helper():\n    pass\nHIDDEN = 1", test),
        nbgrader_cell("ANSWER = 3\nprint(ANSWER)", {"grade": True, "solution": True, "grade_id": "answer"}),
        nbgrader_cell("GIVEN = 4", {"grade": False, "solution": False, "locked": True}),
        nbgrader_cell("ODD = 5", {"grade": "true", "solution": False}),
        nbgrader_cell("BROKEN = 6", "not a dict"),
    ]
    source, notes = notebook_to_source(write(tmp_path / "rnn_forward.ipynb", cells))
    namespace = run(source)
    assert "HIDDEN" not in namespace and "helper" not in namespace
    assert "assert" not in source and "# cell 2" not in source, "the test cell leaves nothing in the module"
    assert namespace["double"](2) == 4 and [namespace[k] for k in ("ANSWER", "GIVEN", "ODD", "BROKEN")] == [3, 4, 5, 6]
    [note] = notes
    assert note.startswith("cell 3:") and "`print(ANSWER)`" in note, "a solution cell's demo is still reported"
