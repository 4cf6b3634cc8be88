"""grader ci: the job summary, the annotations, GitHub Classroom's result, the pull-request comment and the
score outputs all come from one report and give the same total; the hidden bundle decrypts only with its key."""

from __future__ import annotations

import base64
import re
import shutil
import stat
import tempfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.ci import comment
from grader.ci.classroom import ClassroomResult
from grader.ci.comment import MARKER
from grader.ci.locate import Locator, definition_lines
from grader.ci.workflow import PROPERTY, command, escape
from grader.cli import main
from grader.release.bundle import write_bundle
from grader.release.errors import ReleaseError
from grader.release.hidden import extract_hidden_bundle, new_key, write_hidden_bundle
from grader.results import GradingReport
from grader.sandbox.bubblewrap import bwrap_problem
from grader.spec import Course

TYPICAL = ROOT / "tests" / "submissions" / "typical"
TOTAL = re.compile(r"\*\*Total: ([\d.]+) / ([\d.]+) \(")


def outputs(path: Path) -> dict[str, str]:
    """The ``name=value`` step outputs written to a ``$GITHUB_OUTPUT`` file."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def ci(*args: str, env: dict[str, str | None] | None = None):
    """``grader ci`` in-process, outside GitHub Actions unless ``env`` says otherwise."""
    environment = {"GITHUB_STEP_SUMMARY": None, "GITHUB_OUTPUT": None, **(env or {})}
    return CliRunner().invoke(main, ["ci", *args], env=environment)


def test_workflow_commands_escape_as_the_runner_decodes():
    assert escape("50%: a,b\r\n", PROPERTY) == "50%25%3A a%2Cb%0D%0A"
    line = command("error", "got 1%\nexpected 2", file="a b.py", line=7, title="f: 2, wrong")
    assert line == "::error file=a b.py,line=7,title=f%3A 2%2C wrong::got 1%25%0Aexpected 2"


def test_definition_lines_find_defs_classes_and_constants():
    source = "import torch\n\nK = 1\n\n\n@decorator\ndef f(x):\n    return x\n\nclass C:\n    pass\nT: int = 2\n"
    assert definition_lines(source) == {"K": 3, "f": 7, "C": 10, "T": 12}
    assert definition_lines("def broken(:\n") == {}


def test_a_notebook_is_annotated_without_a_line(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def rnn_cell(x):\n    return x\n")])
    nbformat.write(notebook, tmp_path / "rnn_forward.ipynb")
    assert Locator(tmp_path).where("rnn_forward", "rnn_cell") == ("rnn_forward.ipynb", None)
    assert Locator(tmp_path).where("bptt", "sgd_step") is None


def test_every_output_gives_the_same_total(tmp_path):
    """The typical submission's attention.py: annotations on the def lines of the failing functions, the same
    total in the summary, the comment, Classroom's result and the score outputs; --fail-under sets the exit code."""
    summary, github_output, comment = tmp_path / "summary.md", tmp_path / "output", tmp_path / "comment.md"
    args = [str(TYPICAL), "--course", str(ROOT), "-a", "attention", "--public", "--annotations", "--fail-under", "100"]
    result = ci(*args, "--summary", str(summary), "--classroom-output", str(github_output), "--comment", str(comment))
    assert result.exit_code == 1, result.output

    source = (TYPICAL / "attention.py").read_text().splitlines()
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert annotations
    for annotation in annotations:
        props = dict(p.split("=", 1) for p in annotation[len("::error ") :].split("::", 1)[0].split(","))
        function = props["title"].split("%3A")[0].removeprefix("attention.")
        assert props["file"] == "attention.py"
        assert source[int(props["line"]) - 1].startswith(f"def {function}("), annotation
    assert any("title=attention.dot_scores%3A" in a for a in annotations)

    out = outputs(github_output)
    classroom = ClassroomResult.model_validate_json(base64.b64decode(out["result"]))
    score = sum(t.score for t in classroom.tests)
    assert classroom.version == 1 and classroom.status == "fail" and classroom.max_score == 10
    assert {t.filename for t in classroom.tests} == {"attention.py"}
    assert all(source[t.line_no - 1].startswith("def ") for t in classroom.tests)
    assert 0 < score < 10
    summary_total, comment_text = TOTAL.search(summary.read_text()), comment.read_text()
    comment_total = TOTAL.search(comment_text)
    assert summary_total and comment_total
    assert float(summary_total[1]) == float(comment_total[1]) == float(out["score"]) == pytest.approx(score, abs=0.01)
    assert float(summary_total[2]) == float(out["max-score"]) == classroom.max_score
    assert comment_text.startswith(MARKER + "\n")
    assert float(out["percent"]) == pytest.approx(100 * score / 10, abs=0.1)


def test_a_submission_that_cannot_be_graded_still_gets_a_comment_and_a_summary(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("nothing here\n")
    comment, summary = tmp_path / "comment.md", tmp_path / "summary.md"
    result = ci(str(tmp_path / "work"), "--course", str(ROOT), "--comment", str(comment), "--summary", str(summary))
    assert result.exit_code == 2
    assert result.stdout.startswith("::error title=not graded::") and "none of the course's modules" in result.stdout
    assert comment.read_text().startswith(MARKER) and "could not be graded" in comment.read_text()
    assert "Not graded" in summary.read_text()


def test_a_released_bundle_is_graded_as_its_own_course(tmp_path):
    """In a student repository, ``grader ci . --public`` takes the bundle's assignments (here with a changed
    point value) and grades the starter 0."""
    wheel = tmp_path / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a stand-in: this test installs nothing")
    bundle = tmp_path / "bundle"
    write_bundle(Course(ROOT), ["taxonomy"], bundle, wheel, "classroom")
    toml = bundle / "assignments" / "taxonomy" / "assignment.toml"
    toml.write_text(toml.read_text().replace("points = 3", "points = 30", 1))
    github_output = tmp_path / "output"
    result = ci(str(bundle), "--public", "--classroom-output", str(github_output), env={"GRADER_COURSE": None})
    assert result.exit_code == 0, result.output
    assert (outputs(github_output)["score"], outputs(github_output)["max-score"]) == ("0", "37")


def test_the_hidden_bundle_is_encrypted_and_opens_only_with_its_key(tmp_path):
    key, path = new_key(), tmp_path / "hidden.tar.enc"
    write_hidden_bundle(Course(ROOT), ["taxonomy"], path, key)
    data = path.read_bytes()
    assert b"def test_" not in data and b"PROBLEM_KINDS" not in data and b"seed" not in data
    with pytest.raises(ReleaseError, match="cannot decrypt it with this key"):
        extract_hidden_bundle(path, new_key(), tmp_path / "wrong")
    with pytest.raises(ReleaseError, match="cannot decrypt it with this key"):
        extract_hidden_bundle(path, b"not a key", tmp_path / "wrong")
    course = extract_hidden_bundle(path, key, tmp_path / "right")
    assert course.spec.seed == Course(ROOT).spec.seed
    assert list(course.assignments) == ["taxonomy"]
    assert (course.reference_module("taxonomy")).read_bytes() == (ROOT / "reference" / "taxonomy.py").read_bytes()
    assert sorted(p.name for p in course.assignment("taxonomy").tests_dir("hidden").iterdir()) == sorted(
        p.name for p in (ROOT / "assignments" / "taxonomy" / "tests" / "hidden").glob("*.py")
    )


def test_ci_decrypts_the_hidden_bundle_only_for_a_sandboxed_worker(tmp_path, monkeypatch):
    key, bundle = new_key(), tmp_path / "hidden.tar.enc"
    write_hidden_bundle(Course(ROOT), ["taxonomy"], bundle, key)
    monkeypatch.setattr("grader.ci.command.bwrap_problem", lambda: "bwrap is not installed")
    (tmp_path / "submission").mkdir()
    shutil.copy(ROOT / "reference" / "taxonomy.py", tmp_path / "submission")
    args = [str(tmp_path / "submission"), "--hidden-bundle", str(bundle), "--key-env", "K"]
    result = ci(*args, env={"K": key.decode()})
    assert result.exit_code == 2
    assert "not decrypted, since student code would run without the sandbox" in result.stdout


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs bubblewrap: {bwrap_problem()}")
def test_ci_grades_with_the_hidden_bundle_from_a_secret_and_leaves_nothing_behind(tmp_path, monkeypatch):
    """grader release --hidden-bundle makes a key (owner-only file) when none is set; grader ci --hidden-bundle
    decrypts with it from the environment into a temporary course, removed afterwards."""
    bundle = tmp_path / "hidden.tar.enc"
    made = CliRunner().invoke(
        main, ["release", "taxonomy", "--hidden-bundle", str(bundle), "--course", str(ROOT)], env={"GRADER_KEY": None}
    )
    assert made.exit_code == 0, made.output
    key_file = bundle.with_name("hidden.tar.enc.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(ROOT / "reference" / "taxonomy.py", submission)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    github_output = tmp_path / "output"
    args = [str(submission), "--hidden-bundle", str(bundle), "--key-env", "GRADER_KEY"]
    result = ci(*args, "--classroom-output", str(github_output), env={"GRADER_KEY": key_file.read_text().strip()})
    assert result.exit_code == 0, result.output
    assert (outputs(github_output)["score"], outputs(github_output)["max-score"]) == ("10", "10")
    assert list(scratch.iterdir()) == []
    missing = ci(*args, env={"GRADER_KEY": None})
    assert missing.exit_code == 2 and "$GRADER_KEY is empty" in missing.stdout


def test_the_comment_is_cut_to_fit_github():
    report = GradingReport(submission="x", assignments=[], isolation="none", notes=["n" * 100_000])
    body = comment.comment_body(report)
    assert len(body) <= comment.LIMIT and body.startswith(MARKER) and body.endswith(comment.CUT)
