"""``grader run`` end to end: the reference, the starters, partial and unusable submissions, rules, notebooks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import GRADER, ROOT

from grader.cli import main
from grader.engine import grade_submission
from grader.feedback import GradingFailure
from grader.formats import FORMATS, render
from grader.limits import Limits
from grader.results import GradingReport
from grader.sandbox.inside import wire
from grader.sandbox.outcome import Outcome, Status
from grader.sandbox.session import SandboxedStudent, SubmissionSession
from grader.sandbox.worker_client import WorkerClient
from grader.spec import Course, attempt_seed
from grader.starter import write_starter


def grader(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def reference_report(course: Course) -> GradingReport:
    return grade_submission(ROOT / "reference", course)


@pytest.fixture(scope="module")
def starters(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("starters")
    for name in course.assignments:
        write_starter(course.reference_module(name), folder)
    return folder


def test_reference_gets_full_marks_in_every_assignment(reference_report: GradingReport, course: Course):
    assert sorted(a.name for a in reference_report.assignments) == sorted(course.assignments)
    failed = [(t.name, t.feedback) for a in reference_report.assignments for t in a.tests if t.status != "passed"]
    assert not failed
    assert reference_report.percent == pytest.approx(100.0)
    assert reference_report.isolation


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_reference_gets_full_marks_in_every_format(reference_report: GradingReport, fmt: str):
    text = render(reference_report, fmt)
    total = f"{reference_report.max_score:g}"
    if fmt in ("json", "gradescope"):
        data = json.loads(text)
        assert data["score"] == pytest.approx(reference_report.max_score)
        if fmt == "gradescope":
            assert sum(t["score"] for t in data["tests"]) == pytest.approx(reference_report.max_score)
            assert all(t["status"] == "passed" for t in data["tests"])
    elif fmt == "junit":
        assert 'failures="0"' in text and 'errors="0"' in text
    else:
        assert total in text


def test_starters_score_zero_with_not_implemented_feedback(starters: Path, course: Course):
    report = grade_submission(starters, course)
    assert len(report.assignments) == len(course.assignments)
    assert report.score == 0
    kinds = {t.feedback.kind for a in report.assignments for t in a.tests if t.feedback}
    assert "not_implemented" in kinds
    assert kinds <= {"not_implemented", "value", "type", "missing"}


def test_a_missing_module_scores_zero_with_one_line(tmp_path: Path, course: Course):
    shutil.copy(ROOT / "reference" / "shapes.py", tmp_path)
    report = grade_submission(tmp_path, course)
    assert [a.name for a in report.assignments] == list(course.assignments)
    missing = {a.name: a for a in report.assignments if a.name != "shapes"}
    for name, result in missing.items():
        assert result.score == 0 and result.error and result.error.startswith(f"{name}.py was not handed in")
    assert report.score == course.assignment("shapes").spec.max_score
    assert report.max_score == sum(course.assignment(n).spec.max_score for n in course.assignments)


def test_only_the_assignments_asked_for_are_expected(tmp_path: Path, course: Course):
    shutil.copy(ROOT / "reference" / "shapes.py", tmp_path)
    report = grade_submission(tmp_path, course, only=["shapes"])
    assert [a.name for a in report.assignments] == ["shapes"]
    assert report.percent == pytest.approx(100.0)


@pytest.mark.slow
def test_assignment_option_narrows_the_grading(tmp_path: Path):
    out = tmp_path / "r.json"
    result = grader("run", str(ROOT / "reference"), "--assignment", "shapes", "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert [a["name"] for a in json.loads(out.read_text())["assignments"]] == ["shapes"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "nowhere", "no such folder"),
        (lambda p: (p / "file.py").write_text("x = 1") and p / "file.py", "not a folder"),
        (lambda p: p, "empty"),
        (lambda p: (p / "notes.txt").write_text("hi") and p, "none of the course's modules"),
        (lambda p: (p / "rnn_forward.py").write_bytes(b"x = '\xff\xfe'\n") and p, "not UTF-8"),
    ],
)
def test_unusable_submission_is_a_clear_error_with_exit_code_2(tmp_path: Path, make, message: str):
    """In-process: no sandbox starts for a submission that cannot be read."""
    result = CliRunner().invoke(main, ["run", str(make(tmp_path))])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_fail_under_sets_the_exit_code():
    typical = str(ROOT / "tests" / "submissions" / "typical")
    handed_in = ("-a", "rnn_forward", "-a", "gated_cells", "-a", "attention")
    assert grader("run", typical, *handed_in, "--format", "json", "--fail-under", "50").returncode == 0
    assert grader("run", typical, *handed_in, "--format", "json", "--fail-under", "90").returncode == 1


def test_the_same_submission_gets_the_same_grades_twice(course: Course):
    typical = ROOT / "tests" / "submissions" / "typical"

    attempt = attempt_seed(course.spec.seed or "")

    def graded() -> list[tuple[str, str, float, str | None]]:
        report = grade_submission(typical, course, attempt=attempt)
        return [
            (t.assignment, t.name, t.score, t.feedback.render() if t.feedback else None)
            for a in report.assignments
            for t in a.tests
        ]

    first = graded()
    assert first == graded()
    assert 0 < sum(score for *_, score, _ in first) < course.assignment("rnn_forward").spec.max_score * 3


def test_feedback_of_the_typical_mistakes(course: Course):
    report = grade_submission(ROOT / "tests" / "submissions" / "typical", course)
    feedback = {t.task: t.feedback for a in report.assignments for t in a.tests if t.feedback}
    assert feedback["forward"].kind == "shape"
    assert feedback["gru_cell"].kind == "value" and feedback["gru_cell"].worst_index is not None
    assert feedback["gru_cell"].max_abs_error and feedback["gru_cell"].max_abs_error > 0
    crash = feedback["attend"]
    assert crash.kind == "exception" and crash.traceback
    assert "/submission/attention.py" in crash.traceback and "grader" not in crash.traceback


def notebook_of(source: str, demo: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# My RNN"),
            nbformat.v4.new_code_cell("%matplotlib inline\n!pip install torch"),
            nbformat.v4.new_code_cell(source),
            nbformat.v4.new_code_cell(demo),
        ]
    )


def test_a_notebook_submission_is_graded_like_its_module(tmp_path: Path, course: Course):
    source = (ROOT / "reference" / "rnn_forward.py").read_text()
    demo = "print(scalar_rnn([1.0, 2.0], 0.5, 0.5, 1.0, 0.0, 0.0))\nrnn_cell(undefined_name)"
    nbformat.write(notebook_of(source, demo), tmp_path / "rnn_forward.ipynb")
    report = grade_submission(tmp_path, course, only=["rnn_forward"])
    (result,) = report.assignments
    assert result.score == pytest.approx(result.max_score)
    assert any("skipped" in note for note in result.notes)


RULE_BREAKERS = {
    "static": "import torch\n\ndef gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):\n"
    "    cell = torch.nn.GRUCell(x.shape[1], h.shape[1], dtype=x.dtype)\n"
    "    return cell(x, h)\n",
    "dynamic": "import torch\n\ndef gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):\n"
    "    make = getattr(torch.nn, 'GRU' + 'Cell')\n"
    "    cell = make(x.shape[1], h.shape[1], dtype=x.dtype)\n"
    "    with torch.no_grad():\n"
    "        cell.weight_ih.copy_(W_ih); cell.weight_hh.copy_(W_hh)\n"
    "        cell.bias_ih.copy_(b_ih); cell.bias_hh.copy_(b_hh)\n"
    "    return cell(x, h).detach()\n",
    "op": "import torch\n\ndef gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):\n"
    "    return getattr(torch, 'gru' + '_cell')(x, h, W_ih, W_hh, b_ih, b_hh)\n",
}


@pytest.mark.parametrize("how", sorted(RULE_BREAKERS))
def test_torch_recurrent_modules_are_reported_as_a_broken_rule(tmp_path: Path, course: Course, how: str):
    (tmp_path / "gated_cells.py").write_text(RULE_BREAKERS[how])
    report = grade_submission(tmp_path, course, only=["gated_cells"])
    gru = [t for t in report.assignments[0].tests if t.task == "gru_cell"]
    assert gru and all(t.status == "failed" and t.feedback and t.feedback.kind == "rule" for t in gru)


def test_autograd_in_bptt_is_reported_as_a_broken_rule(tmp_path: Path, course: Course):
    (tmp_path / "bptt.py").write_text(
        "import torch\n\ndef clip_grad_norm(grads, max_norm):\n"
        "    params = [torch.nn.Parameter(g.clone()) for g in grads.values()]\n"
        "    for p, g in zip(params, grads.values()):\n"
        "        p.grad = g.clone()\n"
        "    total = torch.nn.utils.clip_grad_norm_(params, max_norm)\n"
        "    return {k: p.grad for k, p in zip(grads, params)}, total\n"
        "\ndef sgd_step(params, grads, lr):\n"
        "    x = torch.zeros(1)\n"
        "    x.requires_grad_()\n"
        "    (x * 2).sum().backward()  # gradients are off for good here: nothing was recorded\n"
        "    return {k: params[k] - lr * grads[k] for k in params}\n"
    )
    report = grade_submission(tmp_path, course, only=["bptt"])
    sgd = [t for t in report.assignments[0].tests if "sgd" in t.task]
    assert sgd and all(t.feedback and t.feedback.kind == "rule" for t in sgd)


def test_a_reply_the_wire_refuses_is_the_workers_doing() -> None:
    """Nested too deeply, or more values than the wire decodes: the reply is refused while it is decoded, inside the
    call's deadline (a protocol error), and the call fails as the worker's doing, never as the sandbox's."""

    class Refusing(WorkerClient):
        def ask(self, request: object, timeout: float) -> Outcome:
            return Outcome(Status.PROTOCOL_ERROR, f"sent a reply the grader cannot read (more than {wire.MAX_VALUES})")

    session = SubmissionSession({}, {}, Limits())
    session.worker = Refusing({}, {}, Limits())
    session.imported.add("rnn_forward")  # the call itself gets the reply, not the module's import
    student = SandboxedStudent(session, "rnn_forward", {})
    with pytest.raises(GradingFailure, match=r"cannot read .*more than") as failure:
        student.call("rnn_cell", 1.0)
    assert failure.value.feedback.kind == "exception"


def test_a_sandbox_failure_is_never_the_students() -> None:
    """A worker that cannot be started is a "sandbox" failure: the runner counts the test neither way."""

    class Broken(WorkerClient):
        def ask(self, request: object, timeout: float) -> Outcome:
            return Outcome(Status.SANDBOX_ERROR, "cannot start the worker: no such file")

    session = SubmissionSession({}, {}, Limits())
    session.worker = Broken({}, {}, Limits())
    student = SandboxedStudent(session, "rnn_forward", {})
    with pytest.raises(GradingFailure, match="not your fault") as failure:
        student.call("rnn_cell", 1.0)
    assert failure.value.feedback.kind == "sandbox"
    assert "rnn_forward" not in session.broken_imports, "a sandbox failure must not stick to the module"


def test_a_function_that_modifies_its_argument_loses_the_unchanged_tests(course: Course, tmp_path: Path) -> None:
    source = (ROOT / "reference" / "attention.py").read_text()
    source += (
        "\n\n_dot_scores = dot_scores\n\n\ndef dot_scores(query, keys):\n"
        "    scores = _dot_scores(query, keys)\n    query.zero_()\n    return scores\n"
    )
    (tmp_path / "attention.py").write_text(source)
    (result,) = grade_submission(tmp_path, course, only=["attention"]).assignments
    failed = [test for task in result.tasks for test in task.tests if test.feedback]
    assert failed, "the in-place change must be caught"
    assert {test.name.split("::")[1] for test in failed} == {"TestDotScores", "TestAttend"}  # attend calls dot_scores
    assert all(test.feedback and test.feedback.kind == "mutation" for test in failed), failed
    assert all(test.feedback and "modified query in place" in test.feedback.message for test in failed)
