"""grader ci: the job summary, the annotations, GitHub Classroom's results, the pull-request comment and the
score outputs all come from one report and give the same total, by Classroom's reporter's own rule too; an
ungradable repository still reports 0 with the reason; the hidden bundle decrypts only with its key."""

from __future__ import annotations

import base64
import json
import math
import os
import random
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import nbformat
import numpy
import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader import exits
from grader.ci import comment
from grader.ci.classroom import RUNNERS, ClassroomResult, classroom_results, not_graded, rest, step_outputs
from grader.ci.command import GRADER_FAILED, NOTHING_COUNTED
from grader.ci.comment import MARKER
from grader.ci.locate import Locator, definition_lines
from grader.ci.workflow import PROPERTY, command, escape
from grader.cli import main
from grader.formats import markdown
from grader.formats.summary import points
from grader.release.bundle import write_bundle
from grader.release.errors import ReleaseError
from grader.release.hidden import extract_hidden_bundle, new_key, write_hidden_bundle
from grader.results import AssignmentResult, GradingReport, TaskResult, TestResult
from grader.sandbox.bubblewrap import bwrap_problem
from grader.spec import Course

TYPICAL = ROOT / "tests" / "submissions" / "typical"
TOTAL = re.compile(r"\*\*Total: ([\d.]+) / ([\d.]+) \(")


def outputs(path: Path) -> dict[str, str]:
    """The ``name=value`` step outputs written to a ``$GITHUB_OUTPUT`` file."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def runners(step_outputs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The reporter's runners as it reads them: each runner id's output, base64 of a JSON result."""
    return {runner: json.loads(base64.b64decode(step_outputs[runner])) for runner in RUNNERS}


# GitHub Classroom's grading reporter, classroom-resources/autograding-grading-reporter@v1 (its dist/main.js, built
# from src/ at commit ca700ea: helpers/test-helpers.js getTestScore, console-results.js, aggregate-results.js,
# notify-classroom.js), in Python: JavaScript's numbers are IEEE doubles, added in the same order here.


def js_number(value: float) -> str:
    """JavaScript's ``String(value)`` (and ``JSON.stringify``) of a score: the shortest digits that read back as
    ``value``, as Python's ``repr``, without ``.0`` (right for the scores here, below 1e16 and not tiny)."""
    return str(int(value)) if value == int(value) else repr(value)


def js_fixed(value: float) -> str:
    """JavaScript's ``value.toFixed(2)``: the double's exact value to two decimals, a tie rounded up."""
    return str(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP))


@dataclass
class Reported:
    """What the reporter prints of the runners' results."""

    runner_lines: list[str]  # "Total points for <runner>: x/y", one per runner whose max_score is not 0
    table_total: tuple[str, str]  # the runner table's "Total:" row: score, max score
    notice: str | None  # the notice titled "Autograding complete", which Classroom reads
    report: str | None  # the notice titled "Autograding report"


def reporter(results: dict[str, dict[str, Any]]) -> Reported:
    """The reporter's totals: a runner's log score is its share of passing entries times its max_score; the
    notice adds up every entry's score and every max_score, of runners whose max_score is not 0."""
    lines, table_score, table_max, total_points, max_points = [], 0.0, 0.0, 0.0, 0.0
    for runner, result in results.items():
        max_score = result["max_score"] or 0
        score = sum(t["status"] == "pass" for t in result["tests"]) / len(result["tests"]) * max_score
        if max_score != 0:
            lines.append(f"Total points for {runner}: {js_fixed(score)}/{js_number(max_score)}")
        table_score, table_max = table_score + score, table_max + max_score
        if result["max_score"]:
            max_points += result["max_score"]
            for test in result["tests"]:
                total_points += test["score"]
    if not max_points:
        return Reported(lines, (js_number(table_score), js_number(table_max)), None, None)
    notice = f"Points {js_number(total_points)}/{js_number(max_points)}"
    report = f'{{"totalPoints":{js_number(total_points)},"maxPoints":{js_number(max_points)}}}'
    return Reported(lines, (js_number(table_score), js_number(table_max)), notice, report)


def graded(tasks: list[tuple[float, int, int]]) -> GradingReport:
    """A report of tasks given as (points, tests, tests passed), scored as grader.runner scores them: a task's
    points shared equally by its tests."""
    results = []
    for i, (task_points, count, passed) in enumerate(tasks):
        share = task_points / count
        tests = [
            TestResult(
                name=f"test_{i}.py::test[{j}]",
                assignment="rnn_forward",
                task=f"t{i}",
                status="passed" if j < passed else "failed",
                score=share if j < passed else 0.0,
                max_score=share,
                duration=0.125,
            )
            for j in range(count)
        ]
        results.append(
            TaskResult(id=f"t{i}", title=f"task {i}", score=share * passed, max_score=task_points, tests=tests)
        )
    assignment = AssignmentResult(
        name="rnn_forward",
        title="RNN",
        score=sum(t.score for t in results),
        max_score=sum(t.max_score for t in results),
        tasks=results,
    )
    return GradingReport(submission="s", assignments=[assignment], isolation="none", tests="public")


def assert_the_same_total(report: GradingReport, seen: Reported) -> None:
    """The reporter's log, its notices, our summary and our score outputs all say points(score) of
    points(max_score)."""
    total, maximum = points(report.score), points(report.max_score)
    assert seen.table_total == (total, maximum)
    assert seen.notice == f"Points {total}/{maximum}"
    assert seen.report == f'{{"totalPoints":{total},"maxPoints":{maximum}}}'
    assert f"**Total: {total} / {maximum} (" in markdown.render(report)
    assert f"Total points for earned: {js_fixed(float(total))}/{total}" in seen.runner_lines or total == "0"


# 60 points in 9 tasks of unequal points, 8 of them partly passed: 36.92 earned
PARTIAL = [(4, 3, 1), (6, 7, 2), (9, 4, 2), (12, 9, 7), (3, 2, 1), (7, 6, 3), (10, 3, 2), (5, 8, 7), (4, 1, 1)]


def per_task_runner() -> dict[str, dict[str, Any]]:
    """The results the review graded: one entry per task (13, of unequal points, 8 passing) in one runner."""
    task_points = [10, 8, 6.5, 5, 4, 2, 0.5, 0.5, 6, 5, 5, 4, 3.5]
    tests = [
        {"name": f"task {i}", "status": "pass" if i < 8 else "fail", "score": p if i < 8 else 0, "line_no": 0}
        for i, p in enumerate(task_points)
    ]
    return {"grader": {"version": 1, "status": "fail", "max_score": sum(task_points), "tests": tests}}


def test_the_rule_gives_the_reviews_numbers_for_one_entry_per_task():
    """The rule as the review saw it: one entry per task made the log say 36.92/60 (8/13 of 60) and the notice
    Classroom reads 36.5/60 (the scores added up)."""
    seen = reporter(per_task_runner())
    assert seen.runner_lines == ["Total points for grader: 36.92/60"]
    assert seen.notice == "Points 36.5/60"


def test_the_reporters_log_its_notice_and_our_summary_agree_exactly():
    """On a 60-point course with 36.92 earned in partly passed tasks of unequal points, at full marks, at 0, and
    on 300 random reports (tasks of any points in quarters, any partial scores): the same total everywhere, to the
    digit."""
    rng = random.Random(13)
    reports = [graded(PARTIAL), graded([(p, n, n) for p, n, _ in PARTIAL]), graded([(p, n, 0) for p, n, _ in PARTIAL])]
    for _ in range(300):
        tasks = []
        for _ in range(rng.randint(1, 12)):
            count = rng.randint(1, 9)
            tasks.append((rng.randint(1, 100) / 4, count, rng.randint(0, count)))
        reports.append(graded(tasks))
    assert points(reports[0].score) == "36.92" and points(reports[0].max_score) == "60"
    for report in reports:
        assert_the_same_total(report, reporter(runners(step_outputs(classroom_results(report)))))


def neighbours(value: float, count: int) -> list[float]:
    """The ``count`` doubles either side of ``value``."""
    found = []
    for direction in (math.inf, -math.inf):
        near = value
        for _ in range(count):
            near = math.nextafter(near, direction)
            found.append(near)
    return found


def test_the_missed_points_add_up_to_the_maximum_in_double_precision():
    """The reporter adds the runners' maximums in doubles, where 0.1 + 0.2 is not 0.3: for every maximum in quarters
    up to 100 points and every score in cents, the points missed to two decimals add up to the maximum; for other
    maximums the missed maximum is a double that does, when there is one (none gives 3.78 with 0.8)."""
    for quarters in range(1, 401):
        cents = numpy.arange(quarters * 25 + 1, dtype=numpy.float64)
        assert numpy.all(cents / 100 + (quarters * 25 - cents) / 100 == quarters / 4), quarters
    assert 0.1 + 0.2 != 0.3 and 0.1 + rest(0.3, 0.1) == 0.3
    assert 0.8 + rest(3.78, 0.8) != 3.78 and rest(3.78, 0.8) == 2.98
    rng = random.Random(7)
    for _ in range(5000):
        total = rng.randint(1, 100_000) / 100
        part = rng.randint(0, int(total * 100)) / 100
        missed = rest(total, part)
        assert points(missed) == points(total - part)
        if part + missed != total:  # then no double near it gives the total
            assert all(part + near != total for near in neighbours(missed, 64))
        if total * 4 == int(total * 4):
            assert part + missed == total and missed == float(points(total - part))


def test_the_entries_carry_duration_as_classroom_s_graders_write_it():
    """``duration`` in seconds (autograding-python-grader's field), no ``execution_time``; each runner one entry
    whose score is its maximum or 0, so the reporter's share of passing entries is the score."""
    earned, missed = runners(step_outputs(classroom_results(graded(PARTIAL)))).values()
    for result in (earned, missed):
        (test,) = result["tests"]
        assert set(test) == {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
        assert test["line_no"] == 0 and test["status"] == result["status"]
    passed = sum(passed for _, _, passed in PARTIAL)
    assert earned["tests"][0]["duration"] == 0.125 * passed
    assert missed["tests"][0]["duration"] == 0.125 * (sum(count for _, count, _ in PARTIAL) - passed)
    assert (earned["status"], earned["tests"][0]["score"], earned["max_score"]) == ("pass", 36.92, 36.92)
    assert (missed["status"], missed["tests"][0]["score"], missed["max_score"]) == ("fail", 0, 23.08)
    assert missed["tests"][0]["test_code"] == "grader run . --public"
    assert "rnn_forward: task 0: 2.67 of 4 points missed" in missed["tests"][0]["message"]


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
    earned, missed = (ClassroomResult.model_validate(r) for r in runners(out).values())
    score = earned.max_score
    assert (earned.status, missed.status) == ("pass", "fail") and earned.max_score + missed.max_score == 10
    assert 0 < score < 10
    seen = reporter(runners(out))
    assert seen.notice == f"Points {out['score']}/{out['max-score']}" and seen.table_total == (out["score"], "10")
    summary_total, comment_text = TOTAL.search(summary.read_text()), comment.read_text()
    comment_total = TOTAL.search(comment_text)
    assert summary_total and comment_total
    assert summary_total[1] == comment_total[1] == out["score"] == points(score)
    assert summary_total[2] == comment_total[2] == out["max-score"] == "10"
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


COURSE_POINTS = points(sum(a.spec.max_score for a in Course(ROOT).assignments.values()))


def no_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("nothing here\n")
    return [str(tmp_path / "work"), "--course", str(ROOT)]


def a_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    (tmp_path / "work.zip").write_bytes(b"PK\x03\x04 not really")
    return [str(tmp_path / "work.zip"), "--course", str(ROOT)]


def broken_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    wheel = tmp_path / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a stand-in: this test installs nothing")
    write_bundle(Course(ROOT), ["taxonomy"], tmp_path / "bundle", wheel, "classroom")
    (tmp_path / "bundle" / "assignments" / "course.toml").write_text("title = [\n")
    return [str(tmp_path / "bundle"), "--public"]


def unreadable_hidden_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr("grader.ci.command.bwrap_problem", lambda: None)
    monkeypatch.setenv("K", new_key().decode())
    (tmp_path / "hidden.tar.enc").write_bytes(b"not an encrypted archive")
    (tmp_path / "submission").mkdir()
    shutil.copy(ROOT / "reference" / "taxonomy.py", tmp_path / "submission")
    return [str(tmp_path / "submission"), "--hidden-bundle", str(tmp_path / "hidden.tar.enc"), "--key-env", "K"]


def grader_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    def fails(*args: object) -> GradingReport:
        raise RuntimeError("a bug of the grader's")

    monkeypatch.setattr("grader.engine.grade_submission", fails)
    return [*no_modules(tmp_path, monkeypatch), "-a", "taxonomy"]


def nothing_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    uncounted = TestResult(name="t.py::t", assignment="taxonomy", task="t", status="error", score=0, max_score=0)
    task = TaskResult(id="t", title="T", score=0, max_score=0, tests=[uncounted])
    assignment = AssignmentResult(
        name="taxonomy", title="T", score=0, max_score=0, tasks=[task], course_errors=["taxonomy: t.py::t boom"]
    )
    report = GradingReport(submission="s", assignments=[assignment], isolation="none", tests="public")
    monkeypatch.setattr("grader.engine.grade_submission", lambda *args: report)
    return [*no_modules(tmp_path, monkeypatch), "-a", "taxonomy"]


TAXONOMY_POINTS = points(Course(ROOT).assignment("taxonomy").spec.max_score)
UNGRADABLE = {
    "missing modules": (no_modules, exits.UNUSABLE_INPUT, COURSE_POINTS, "none of the course's modules is here"),
    "a zip, not a folder": (a_zip, exits.UNUSABLE_INPUT, COURSE_POINTS, "work.zip: a file, not a folder"),
    "a course that cannot be read": (broken_course, exits.UNUSABLE_INPUT, "1", "course.toml: not valid TOML"),
    "a hidden bundle that cannot be read": (unreadable_hidden_bundle, exits.UNUSABLE_INPUT, "1", "cannot decrypt"),
    "the grader failed": (grader_failure, exits.COURSE_FAILED, TAXONOMY_POINTS, GRADER_FAILED),
    "no test could be counted": (nothing_counted, exits.COURSE_FAILED, TAXONOMY_POINTS, NOTHING_COUNTED),
}


@pytest.mark.parametrize("case", list(UNGRADABLE))
def test_an_ungradable_repository_reports_0_with_the_reason(tmp_path, monkeypatch, case):
    """Classroom gets 0 of the expected points (of 1 when the course itself cannot be read: it shows nothing for a
    maximum of 0), and the reason is the missed entry's error message, which the reporter prints; the score outputs
    stay unset (a commit status says "could not be graded")."""
    make, code, maximum, reason = UNGRADABLE[case]
    github_output = tmp_path / "output"
    result = ci(*make(tmp_path, monkeypatch), "--classroom-output", str(github_output))
    assert result.exit_code == code, result.output
    out = outputs(github_output)
    assert "score" not in out or case == "no test could be counted"
    seen = reporter(runners(out))
    assert seen.notice == f"Points 0/{maximum}" and seen.table_total == ("0", maximum)
    earned, missed = runners(out).values()
    assert (earned["status"], missed["status"]) == ("fail", "error")
    assert reason in missed["tests"][0]["message"]
    assert "Traceback" not in missed["tests"][0]["message"]


def test_what_the_reporter_prints_holds_no_workflow_command():
    """The reporter prints an errored entry's message to the log as it is: no line of it can be a command."""
    (_, missed) = not_graded("a reason\n::add-mask::x\n  ::error::forged\n##[error]old style", 60)
    (entry,) = missed.tests
    assert entry.message and entry.message.startswith("not graded: a reason\n")
    assert not any(line.lstrip().startswith("::") for line in entry.message.splitlines())
    assert "##[" not in entry.message


REPORTER = os.environ.get("GRADER_CLASSROOM_REPORTER")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def real_reporter(tmp_path: Path, results: dict[str, dict[str, Any]]) -> Reported:
    """The reporter's dist/main.js run with node on ``results`` (runner id: JSON result), as the workflow runs it."""
    env = {"PATH": os.environ["PATH"], "INPUT_RUNNERS": ",".join(results), "GITHUB_OUTPUT": str(tmp_path / "out")}
    env |= {f"{r.upper()}_RESULTS": base64.b64encode(json.dumps(v).encode()).decode() for r, v in results.items()}
    done = subprocess.run(["node", str(REPORTER)], env=env, cwd=tmp_path, capture_output=True, text=True)
    log = ANSI.sub("", done.stdout).splitlines()
    (total,) = [[cell.strip() for cell in line.split("│")[2:4]] for line in log if line.startswith("│ Total:")]
    notices = dict(line.removeprefix("::notice title=").split("::", 1) for line in log if line.startswith("::notice"))
    lines = [line.strip() for line in log if line.startswith("Total points for ")]
    return Reported(lines, (total[0], total[1]), notices.get("Autograding complete"), notices.get("Autograding report"))


@pytest.mark.slow
@pytest.mark.skipif(
    not (REPORTER and shutil.which("node")),
    reason="set $GRADER_CLASSROOM_REPORTER to the dist/main.js of classroom-resources/autograding-grading-reporter@v1 "
    "(its tag v1 on GitHub: it is not on npm) and install node",
)
def test_the_real_reporter_prints_our_total(tmp_path):
    """GitHub's own reporter, run with node: on the review's per-task results it disagrees with itself as the rule
    above says; on ours (36.92 of 60, full marks, 0, not graded) its log and its notices say our summary's total."""
    review = real_reporter(tmp_path, per_task_runner())
    assert review.runner_lines == reporter(per_task_runner()).runner_lines == ["Total points for grader: 36.92/60"]
    assert review.notice == reporter(per_task_runner()).notice == "Points 36.5/60"
    cases = [graded(PARTIAL), graded([(p, n, n) for p, n, _ in PARTIAL]), graded([(p, n, 0) for p, n, _ in PARTIAL])]
    for report in cases:
        results = runners(step_outputs(classroom_results(report)))
        real = real_reporter(tmp_path, results)
        assert real == reporter(results)
        assert_the_same_total(report, real)
    ungraded = runners(step_outputs(not_graded("no modules", 60)))
    assert real_reporter(tmp_path, ungraded) == reporter(ungraded)
    assert reporter(ungraded).notice == "Points 0/60"


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


def test_a_grader_failure_with_the_hidden_bundle_prints_no_traceback(tmp_path, monkeypatch):
    """A pull request's log is public: a bug of the grader's while the hidden tests are in play exits 3 with one line
    naming the error's type, never its traceback (which may quote the hidden tests)."""
    key, bundle = new_key(), tmp_path / "hidden.tar.enc"
    write_hidden_bundle(Course(ROOT), ["taxonomy"], bundle, key)
    monkeypatch.setattr("grader.ci.command.bwrap_problem", lambda: None)

    def fails(*args: object) -> GradingReport:
        raise RuntimeError("a bug of the grader's, in tests/hidden/test_secret.py")

    monkeypatch.setattr("grader.engine.grade_submission", fails)
    (tmp_path / "submission").mkdir()
    shutil.copy(ROOT / "reference" / "taxonomy.py", tmp_path / "submission")
    args = [str(tmp_path / "submission"), "--hidden-bundle", str(bundle), "--key-env", "K"]
    result = CliRunner().invoke(main, ["ci", *args], env={"K": key.decode(), "GITHUB_STEP_SUMMARY": None})
    assert result.exit_code == exits.COURSE_FAILED
    assert "internal error (RuntimeError)" in result.output
    assert "Traceback" not in result.output and "test_secret" not in result.output
