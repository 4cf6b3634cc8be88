"""A test written wrong (an unknown fixture, an unknown task, ``grade.compare`` with a function the assignment does not
have) is the course's error: one line names the test and what is wrong, in ``grader validate`` and when grading,
and it is never charged to a student."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.exits import COURSE_FAILED
from grader.runner import NOT_COUNTED, grade_assignment
from grader.spec import Course
from grader.student import LocalStudent, import_module_from

SPEC = """
name = "demo"
title = "Demo"
time_limit = 10.0
[tolerance.float32]
rtol = 1e-5
atol = 1e-6
[tolerance.float64]
rtol = 1e-7
atol = 1e-9
[functions.double]
outputs = ["y"]
equation = "y = 2 x"
[[tasks]]
id = "a"
title = "A"
points = 2
functions = ["double"]
"""
REFERENCE = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
CATALOGUE = """
from grader.mistakes import Catalogue

catalogue = Catalogue()
catalogue.add("triple", mistake="x is tripled", right="y = 2 x", replace={"return 2 * x": "return 3 * x"})
"""
GOOD = """
import pytest
import torch


@pytest.mark.task("a")
def test_good(grade, rng):
    grade.compare("double", torch.randn(3, generator=rng, dtype=torch.float64))
"""
PUBLIC = GOOD.replace('grade.compare("double", ', 'grade.expect("double", torch.ones(2), expected=2 * ').replace(
    "torch.randn(3, generator=rng, dtype=torch.float64))", "torch.ones(2))"
)

# each test written wrong, and the line that names it
BROKEN = {
    "fixture": (
        '@pytest.mark.task("a")\ndef test_broken(grade, tmp_path):\n    pass\n',
        "demo: test_demo.py::test_broken requests the fixture tmp_path, which the grader does not provide; the "
        "fixtures are case_seed, rng, grade, student, reference, dataset (and the test's parametrize arguments)",
    ),
    "task": (
        '@pytest.mark.task("b")\ndef test_broken(grade):\n    grade.compare("double", torch.ones(2))\n',
        "demo: test_demo.py::test_broken is marked @pytest.mark.task('b'), but every test needs one whose ID is a "
        "task of assignment.toml: a",
    ),
    "function": (
        '@pytest.mark.task("a")\ndef test_broken(grade):\n    grade.compare("tripel", torch.ones(2))\n',
        "demo: test_demo.py::test_broken asks grade for 'tripel', which is not a function of demo (its "
        "assignment.toml has double)",
    ),
    # not the student's missing function
    "function_called": (
        '@pytest.mark.task("a")\ndef test_broken(grade):\n    grade.call("tripel", torch.ones(2))\n',
        "demo: test_demo.py::test_broken asks grade for 'tripel', which is not a function of demo (its "
        "assignment.toml has double)",
    ),
}


def demo_course(root: Path, broken: str) -> Path:
    """A course of one assignment, demo, whose hidden tests are a good test and ``broken``."""
    folder = root / "assignments" / "demo"
    for tests in ("hidden", "public"):
        (folder / "tests" / tests).mkdir(parents=True)
    (root / "assignments" / "course.toml").write_text(
        'title = "Demo course"\nseed = "0123456789abcdef0123456789abcdef"\n'
    )
    (folder / "assignment.toml").write_text(SPEC)
    (folder / "mistakes.py").write_text(CATALOGUE)
    (folder / "tests" / "hidden" / "test_demo.py").write_text(f"{GOOD}\n\n{broken}")
    (folder / "tests" / "public" / "test_demo_public.py").write_text(PUBLIC)
    (root / "reference").mkdir()
    (root / "reference" / "demo.py").write_text(REFERENCE)
    return root


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_grading_tells_the_instructor_in_one_line_and_charges_the_student_nothing(tmp_path: Path, kind: str):
    broken, line = BROKEN[kind]
    course = Course(demo_course(tmp_path / "course", broken))
    reference = course.reference_module("demo")
    result = grade_assignment(course.assignment("demo"), LocalStudent(reference), import_module_from(reference), 5)
    assert result.course_errors == [line]
    assert result.score == result.max_score == 2  # the good test has all the task's points
    # a test of no task counts for nothing, so only the instructor hears of it
    shown = {t.name: (t.status, t.feedback and t.feedback.message) for t in result.tests}
    broken_test = {} if kind == "task" else {"test_demo.py::test_broken": ("error", NOT_COUNTED)}
    assert shown == {"test_demo.py::test_good": ("passed", None), **broken_test}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_validate_names_the_test_in_one_line_and_fails(tmp_path: Path, kind: str):
    broken, line = BROKEN[kind]
    result = CliRunner().invoke(main, ["validate", "--course", str(demo_course(tmp_path, broken))])
    assert result.exit_code == 1, result.output
    assert line in result.output.splitlines()
    assert "1 tests could not run (below)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_grader_run_exits_3_and_names_the_test_on_one_line(tmp_path: Path):
    broken, line = BROKEN["fixture"]
    course = demo_course(tmp_path / "course", broken)
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "demo.py").write_text("def double(x):\n    return x + x\n")
    result = CliRunner().invoke(main, ["run", str(submission), "--course", str(course), "--format", "json"])
    assert result.exit_code == COURSE_FAILED, result.output
    assert line in result.stderr.splitlines() and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == report["max_score"] == 2
    assert line not in result.stdout  # the student reads only that a test was not counted
