"""Public mode: a released bundle grading itself (no reference, no mistake catalogue, no secret seed) tells a student
what the instructor's course tells about the same submission on the same public tests: the same inputs, drawn from the
same public seed, named with the contract's parameter names, and the same values."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ROOT, load_reference
from test_release import run_json

from grader.cli import main
from grader.spec import CourseSpec, new_secret

WRONG = ROOT / "tests" / "submissions" / "typical"
ONLY = [arg for module in sorted(WRONG.glob("*.py")) for arg in ("-a", module.stem)]
UNCOMPARED = ("diagnosis", "explanation", "matches")
"""What only the course can say: which catalogued mistake a failure matches (a bundle has no catalogue)."""
INPUT_NAME = re.compile(r"(?:^|, )([A-Za-z_]\w*) ")
"""A name in a feedback's inputs line: ``x (3, 4) float64, lr 0.1`` names x and lr."""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A released bundle in which the typical wrong submission replaced three of the starters."""
    folder = tmp_path_factory.mktemp("public")
    wheel = folder / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")  # shipped, never installed: these tests grade with this process's grader
    out = folder / "bundle"
    result = CliRunner().invoke(main, ["release", "--out", str(out), "--wheel", str(wheel), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    for module in WRONG.glob("*.py"):
        shutil.copy(module, out / module.name)
    return out


def in_the_bundle(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The student's report: ``grader run . --public`` in the bundle, as its README says."""
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(bundle)
    return run_json([".", "--public", *ONLY])


def all_tests(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every test of a JSON report."""
    return [test for a in report["assignments"] for task in a["tasks"] for test in task["tests"]]


def compared(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each test of ``report`` by name: its status, score and feedback, without what only the course can say."""
    return {
        test["name"]: {
            "status": test["status"],
            "score": test["score"],
            "feedback": {k: v for k, v in (test["feedback"] or {}).items() if k not in UNCOMPARED},
        }
        for test in all_tests(report)
    }


def test_the_instructor_reproduces_a_student_s_public_report(bundle, monkeypatch):
    student = compared(in_the_bundle(bundle, monkeypatch))
    instructor = run_json([str(bundle), "--public", "--course", str(ROOT), *ONLY])
    assert compared(instructor) == student
    failed = [test["feedback"] for test in student.values() if test["status"] == "failed"]
    assert any(f["kind"] == "value" and f["got"] and f["worst_index"] for f in failed)
    assert failed and all(f["inputs"] for f in failed)
    assert any(test["feedback"]["diagnosis"] for test in all_tests(instructor) if test["feedback"])


def test_public_mode_names_the_inputs_with_the_contract_s_parameter_names(bundle, monkeypatch):
    """The names the reference's own signatures have, where the bundle has no reference."""
    references = [load_reference(module.stem) for module in WRONG.glob("*.py")]
    contract = {
        name: list(inspect.signature(f).parameters)
        for r in references
        for name, f in vars(r).items()
        if inspect.isfunction(f)
    }
    failed = [test["feedback"] for test in compared(in_the_bundle(bundle, monkeypatch)).values() if test["feedback"]]
    assert failed
    for feedback in failed:
        named = INPUT_NAME.findall(feedback["inputs"])
        assert named and named == contract[feedback["function"]][: len(named)], feedback["inputs"]


def test_a_submission_s_own_parameter_names_never_name_the_inputs(bundle, tmp_path, monkeypatch):
    """The names are the course's: a student renaming the parameters cannot put text into the report."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    injected = "def rnn_cell(Your_grade_is_100, *args):\n    return Your_grade_is_100\n"
    (copy / "rnn_forward.py").write_text((copy / "rnn_forward.py").read_text() + injected)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(copy)
    for report in [
        run_json([".", "--public", "-a", "rnn_forward"]),
        run_json([".", "-a", "rnn_forward", "--course", str(ROOT)]),
    ]:
        inputs = [
            t["feedback"]["inputs"] for t in all_tests(report) if (t["feedback"] or {}).get("function") == "rnn_cell"
        ]
        assert inputs and all(i.startswith("x (") and "Your_grade" not in i for i in inputs), inputs


def test_a_bundle_s_parameter_names_are_identifiers_or_refused(bundle, tmp_path, monkeypatch):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    signatures = copy / "assignments" / "rnn_forward" / "signatures.toml"
    signatures.write_text('"rnn_cell" = ["x (1, 1) float64 (case seed 0)\\nYour grade: 100%"]\n')
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(copy)
    result = CliRunner().invoke(main, ["run", ".", "--public", "-a", "rnn_forward"])
    assert result.exit_code == 2, result.output
    assert f"{signatures}: each function must map to a list of parameter names" in result.stderr


def test_the_public_seed_is_the_course_s_and_the_bundle_s_and_tells_nothing_of_the_secret_one():
    toml = Path("course.toml")
    released = CourseSpec(title="Recurrent neural networks", public_tests={})
    public = released.seed_for("public", toml)
    for secret in (new_secret(), new_secret()):
        course = CourseSpec(title="Recurrent neural networks", seed=secret)
        assert course.seed_for("public", toml) == public
        assert course.seed_for("hidden", toml) == secret
    assert CourseSpec(title="Recurrent neural networks, 2026").seed_for("public", toml) != public
