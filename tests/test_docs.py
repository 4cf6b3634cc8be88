"""The instructor's guide to writing tests: its example is a real test, which the reference passes and a
wrong cell fails with the feedback the guide describes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import ROOT

from grader.runner import grade_assignment
from grader.spec import Assignment
from grader.student import LocalStudent, import_module_from

GUIDE = ROOT / "docs" / "writing-tests.md"


def guide_example(tmp_path: Path) -> Assignment:
    """rnn_forward's spec with the guide's first Python example as its only hidden test."""
    example = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert example, f"{GUIDE} has no python example"
    folder = tmp_path / "rnn_forward"
    (folder / "tests" / "hidden").mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "rnn_forward" / "assignment.toml", folder)
    (folder / "tests" / "hidden" / "test_guide.py").write_text(example[1])
    return Assignment(folder)


def test_the_guide_s_example_passes_the_reference_and_fails_a_wrong_cell(tmp_path: Path):
    assignment = guide_example(tmp_path)
    reference = ROOT / "reference" / "rnn_forward.py"
    right = grade_assignment(assignment, LocalStudent(reference), import_module_from(reference), seed=1)
    assert [t.status for t in right.tests] == ["passed", "passed"]
    wrong = tmp_path / "wrong" / "rnn_forward.py"
    wrong.parent.mkdir()
    wrong.write_text(reference.read_text().replace("torch.tanh(", "torch.sigmoid(", 1))
    graded = grade_assignment(assignment, LocalStudent(wrong), import_module_from(reference), seed=1)
    feedback = [t.feedback for t in graded.tests]
    assert all(f and f.kind == "value" and f.function == "rnn_cell" and f.worst_index for f in feedback)
    assert all(f and f.equation and f.equation.startswith("handout eq. (1)") for f in feedback)
