"""What run_autograder runs on Gradescope (grader.gradescope_autograder): the upload found where a student puts it,
each test shown when the course says, a course's or the grader's failure told to the student as the autograder's,
its traceback only in the instructor's output; and the real script, end to end, on a nested and a zipped upload."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import get_args

import pytest
from click.testing import CliRunner
from conftest import ROOT
from test_gradescope_release import documented, release, run_autograder, unpack

from grader.batch.archives import ArchiveError
from grader.feedback import Feedback
from grader.formats.gradescope import FAILED, render
from grader.gradescope_autograder import Ambiguous, autograde, locate
from grader.release.contents import course_files
from grader.results import AssignmentResult, GradingReport, TaskResult, TestResult
from grader.spec import Course, Visibility

NAMES = ["rnn_forward", "attention"]
MODULE = "def rnn_cell(*args):\n    raise NotImplementedError\n"


def write_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def write_tar(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    return path


@pytest.fixture
def upload(tmp_path) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    return folder


def test_modules_at_the_top_are_graded_where_they_are(upload, tmp_path):
    (upload / "rnn_forward.py").write_text(MODULE)
    (upload / "old").mkdir()
    (upload / "old" / "attention.py").write_text(MODULE)
    assert locate(upload, NAMES, tmp_path / "work") == (upload, None)


def test_a_folder_zipped_and_unpacked_by_gradescope_is_graded_inside(upload, tmp_path):
    (upload / "hw3").mkdir()
    (upload / "hw3" / "attention.ipynb").write_text("{}")
    (upload / "__MACOSX").mkdir()
    (upload / "__MACOSX" / "rnn_forward.py").write_text(MODULE)
    (upload / ".DS_Store").write_text("")
    folder, note = locate(upload, NAMES, tmp_path / "work")
    assert folder == upload / "hw3" and note == "graded the modules in the folder hw3/ of your upload"


@pytest.mark.parametrize("archive", ["hw3.zip", "hw3.tar.gz"])
@pytest.mark.parametrize("inside", ["", "hw3/", "hw3/again/"])
def test_an_uploaded_archive_is_extracted_safely_and_graded(upload, tmp_path, archive, inside):
    files = {f"{inside}rnn_forward.py": MODULE, f"{inside}notes.txt": "hi"}
    (write_zip if archive.endswith(".zip") else write_tar)(upload / archive, files)
    work = tmp_path / "work"
    work.mkdir()
    folder, note = locate(upload, NAMES, work)
    assert (folder / "rnn_forward.py").read_text() == MODULE and (folder == work or work in folder.parents)
    assert note == f"graded the modules in {archive}, the archive of your upload"


@pytest.mark.parametrize("second", ["folder", "archive"])
def test_modules_in_two_places_are_ambiguous(upload, tmp_path, second):
    (upload / "draft").mkdir()
    (upload / "draft" / "rnn_forward.py").write_text(MODULE)
    if second == "folder":
        (upload / "final").mkdir()
        (upload / "final" / "rnn_forward.py").write_text(MODULE)
    else:
        write_zip(upload / "final.zip", {"rnn_forward.py": MODULE})
    with pytest.raises(Ambiguous, match=r"in 2 places \(draft/, final"):
        locate(upload, NAMES, tmp_path / "work")


def test_a_linked_folder_is_never_followed(upload, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "rnn_forward.py").write_text(MODULE)
    (upload / "hw3").symlink_to(elsewhere)
    assert locate(upload, NAMES, tmp_path / "work") == (upload, None)


def test_an_archive_that_would_escape_is_refused(upload, tmp_path):
    write_zip(upload / "hw3.zip", {"../rnn_forward.py": MODULE})
    with pytest.raises(ArchiveError, match="points outside the archive"):
        locate(upload, NAMES, tmp_path / "work")
    assert not (tmp_path / "rnn_forward.py").exists()


# ------------------------------------------------------------------------------------------------------------------
# the whole run in-process, where no student code runs: what results.json and the instructor's output say


@pytest.fixture
def root(tmp_path) -> Path:
    """A folder laid out as Gradescope's /autograder for rnn_forward's autograder: the course in source/course."""
    course = Course(ROOT)
    for file in course_files(course, ["rnn_forward"]):
        target = tmp_path / "source" / "course" / file.relative_to(course.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)
    (tmp_path / "submission").mkdir()
    return tmp_path


def plain(markdown: str) -> str:
    """Markdown text as it reads, without the backslashes that make it literal."""
    return re.sub(r"\\(.)", r"\1", markdown)


def autograded(root: Path, code: int, *args: str) -> tuple[dict, str]:
    """``autograde --root ROOT``: results.json (in Gradescope's documented format) and what it printed."""
    result = CliRunner().invoke(autograde, ["--root", str(root), *args])
    assert result.exit_code == code, result.output
    return documented((root / "results" / "results.json").read_text()), result.output


def test_an_ambiguous_upload_is_explained_to_the_student(root):
    for name in ("a", "b"):
        (root / "submission" / name).mkdir()
        (root / "submission" / name / "rnn_forward.py").write_text(MODULE)
    results, _ = autograded(root, 2)
    assert results["score"] == 0 and results["tests"] == [] and results["visibility"] == "visible"
    assert "in 2 places (a/, b/)" in plain(results["output"]) and "upload one copy of your modules" in results["output"]
    assert results["execution_time"] >= 0


def test_an_unreadable_archive_is_explained_to_the_student(root):
    (root / "submission" / "hw3.zip").write_bytes(b"PK\x03\x04 not really a zip")
    results, _ = autograded(root, 2)
    assert "hw3.zip: not a readable archive" in plain(results["output"])


def test_a_broken_course_is_the_autograder_s_failure_not_the_student_s(root):
    spec = root / "source" / "course" / "assignments" / "rnn_forward" / "assignment.toml"
    spec.write_text(spec.read_text() + '\n[gradescope]\nvisibility = "soon"\n')
    (root / "submission" / "rnn_forward.py").write_text(MODULE)
    results, output = autograded(root, 3)
    assert results["score"] == 0 and plain(results["output"]).endswith(FAILED)
    assert "assignment.toml" not in results["output"] and "soon" not in json.dumps(results)
    assert str(spec) in output and "gradescope.visibility" in output, "the instructor is told what to fix"


def test_a_bug_of_the_grader_shows_the_student_no_traceback(root, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("a bug in the grader's own code")

    monkeypatch.setattr("grader.gradescope_autograder.grade_submission", crash)
    (root / "submission" / "rnn_forward.py").write_text(MODULE)
    results, output = autograded(root, 3)
    text = json.dumps(results)
    assert "Traceback" not in text and "a bug in the grader" not in text and "gradescope_autograder" not in text
    assert "please tell your instructor" in results["output"].lower()
    assert "Traceback" in output and "RuntimeError: a bug in the grader's own code" in output


def test_the_visibility_option_is_checked(root):
    result = CliRunner().invoke(autograde, ["--root", str(root), "--visibility", "never"])
    assert result.exit_code == 2 and "'never' is not one of" in result.output


def test_grader_run_takes_visibility_only_with_the_gradescope_format(tmp_path):
    from grader.cli import main

    result = CliRunner().invoke(main, ["run", str(tmp_path), "--visibility", "hidden"])
    assert result.exit_code == 2 and "--visibility goes with --format gradescope" in result.output


# ------------------------------------------------------------------------------------------------------------------
# each test's visibility, from assignment.toml or the command line


def report(which: str = "hidden") -> GradingReport:
    """rnn_forward graded: a passed test of task cell, a failed one of task forward, and attention not handed in."""
    failure = Feedback(kind="value", message="'h' is wrong")
    tasks = [
        TaskResult(id="cell", title="Cell", score=1, max_score=1, tests=[result_of("cell", "passed", 1, 0.5)]),
        TaskResult(
            id="forward", title="Forward", score=0, max_score=1, tests=[result_of("forward", "failed", 0, 0, failure)]
        ),
    ]
    graded = AssignmentResult(name="rnn_forward", title="RNN", score=1, max_score=2, tasks=tasks)
    missing = AssignmentResult(name="attention", title="Attention", score=0, max_score=3, tasks=[], error="missing")
    return GradingReport(submission="s", assignments=[graded, missing], isolation="bubblewrap", tests=which)


def result_of(task: str, status: str, score: float, duration: float, feedback: Feedback | None = None) -> TestResult:
    name = f"test_{task}.py::test_it"
    return TestResult(
        name=name,
        assignment="rnn_forward",
        task=task,
        status=status,
        score=score,
        max_score=1,
        duration=duration,
        feedback=feedback,
    )


@pytest.fixture
def course(tmp_path) -> Course:
    """This course, with rnn_forward's hidden tests visible at once but those of its task forward never."""
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    spec = tmp_path / "assignments" / "rnn_forward" / "assignment.toml"
    spec.write_text(
        spec.read_text() + '\n[gradescope]\nvisibility = "visible"\ntask_visibility = { forward = "hidden" }\n'
    )
    return Course(tmp_path)


def visibilities(text: str) -> dict[str, str]:
    results = documented(text)
    return {"result": results["visibility"], **{t["name"]: t["visibility"] for t in results["tests"]}}


def test_hidden_tests_default_to_after_the_due_date_and_what_was_not_handed_in_shows_at_once():
    assert visibilities(render(report(), Course(ROOT))) == {
        "result": "visible",
        "Cell: test_cell.py::test_it": "after_due_date",
        "Forward: test_forward.py::test_it": "after_due_date",
        "Attention: not graded": "visible",
    }


def test_an_assignment_and_its_tasks_set_their_tests_visibility(course):
    assert visibilities(render(report(), course)) == {
        "result": "visible",
        "Cell: test_cell.py::test_it": "visible",
        "Forward: test_forward.py::test_it": "hidden",
        "Attention: not graded": "visible",
    }


def test_public_tests_are_visible(course):
    assert set(visibilities(render(report("public"), course)).values()) == {"visible"}


@pytest.mark.parametrize("visibility", get_args(Visibility))
def test_the_command_line_s_visibility_is_every_test_s_and_the_result_s(course, visibility):
    assert set(visibilities(render(report(), course, visibility)).values()) == {visibility}


def test_execution_time_of_the_run_and_of_each_test_that_ran():
    results = documented(render(report(), execution_time=3.14159))
    assert results["execution_time"] == 3.14
    times = {t["name"]: t["extra_data"].get("execution_time") for t in results["tests"]}
    assert times == {
        "Cell: test_cell.py::test_it": 0.5,
        "Forward: test_forward.py::test_it": None,
        "Attention: not graded": None,
    }
    assert "execution_time" not in documented(render(report()))


def test_tests_that_could_not_run_are_the_autograder_s_failure():
    broken = report()
    broken.assignments[0].tasks[1].tests[0].status = "error"
    output = documented(render(broken))["output"]
    assert "1 test(s) could not run and are not counted" in output and FAILED in output


# ------------------------------------------------------------------------------------------------------------------
# the released zip's real run_autograder, end to end


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> dict[Visibility | None, Path]:
    """rnn_forward's autograder, released with each --visibility and without."""
    from grader.release.wheel import build_wheel

    out = tmp_path_factory.mktemp("released")
    wheel = build_wheel(out / "wheel")
    zips: dict[Visibility | None, Path] = {}
    for visibility in (None, *get_args(Visibility)):
        args = ["--visibility", visibility] if visibility else []
        zips[visibility] = release(out / (visibility or "default"), wheel, "rnn_forward", *args) / "rnn_forward"
    return {v: folder / "autograder.zip" for v, folder in zips.items()}


UPLOADS = [("zipped" if i % 2 else "nested", v) for i, v in enumerate([None, *get_args(Visibility)])]
"""Each visibility released (and none) graded once, on a nested and a zipped upload in turn: the layout and the
visibility are independent, so each layout and each visibility is still run end to end."""


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "visibility"), UPLOADS)
def test_run_autograder_grades_a_nested_or_zipped_upload(released, tmp_path, kind, visibility):
    root = unpack(released[visibility], tmp_path / "autograder")
    reference = (ROOT / "reference" / "rnn_forward.py").read_text()
    if kind == "nested":
        (root / "submission" / "my work").mkdir()
        (root / "submission" / "my work" / "rnn_forward.py").write_text(reference)
    else:
        write_zip(root / "submission" / "hw.zip", {"hw/rnn_forward.py": reference, "__MACOSX/._hw": ""})
    results = run_autograder(root)
    assert results["score"] == 10 == sum(t["score"] for t in results["tests"])
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert {t["visibility"] for t in results["tests"]} == {visibility or "after_due_date"}
    assert results["visibility"] == (visibility or "visible") and results["execution_time"] > 0
    where = "the folder my work/" if kind == "nested" else "hw.zip"
    assert f"graded the modules in {where}" in plain(results["output"])


@pytest.mark.slow
def test_grader_run_shows_each_test_as_the_command_line_says_with_the_run_s_time(tmp_path):
    from grader.cli import main

    shutil.copy(ROOT / "reference" / "rnn_forward.py", tmp_path)
    out = tmp_path / "results.json"
    args = ["run", str(tmp_path), "-a", "rnn_forward", "--course", str(ROOT), "--format", "gradescope", "-o", str(out)]
    result = CliRunner().invoke(main, [*args, "--visibility", "after_published"])
    assert result.exit_code == 0, result.output
    results = documented(out.read_text())
    assert results["score"] == 10 and results["execution_time"] > 0
    assert {t["visibility"] for t in results["tests"]} == {results["visibility"]} == {"after_published"}
