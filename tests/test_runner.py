"""The runner: tests collected once per process by pytest, then run by the grader itself with fresh fixtures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.results import AssignmentResult
from grader.runner import ASSERT_CHARS, ASSERT_LINES, NOT_COUNTED, bounded, grade_assignment
from grader.spec import Assignment
from grader.student import LocalStudent, import_module_from
from grader.suite import collect

SPEC = """
name = "demo"
title = "Demo"
time_limit = 7.0
[tolerance.float32]
rtol = 1e-5
atol = 1e-6
[tolerance.float64]
rtol = 1e-7
atol = 1e-9
[functions.double]
outputs = ["y"]
[[tasks]]
id = "a"
title = "A"
points = 2
functions = ["double"]
"""
REFERENCE = "def double(x):\n    return 2 * x\n"
IN_PLACE = "def double(x):\n    x.mul_(2)\n    return x\n"
TESTS = """
import pytest
import torch

ONES = torch.ones(3, dtype=torch.float64)


@pytest.mark.task("a")
def test_compare(grade, rng):
    grade.compare("double", torch.randn(3, generator=rng, dtype=torch.float64))


@pytest.mark.task("a")
def test_module_value(grade):
    grade.compare("double", ONES)


@pytest.mark.task("a")
def test_module_value_intact():
    assert torch.equal(ONES, torch.ones(3, dtype=torch.float64))


@pytest.mark.task("a")
@pytest.mark.parametrize("n", [1, 2], ids=["one", "two"])
def test_parametrized(grade, rng, n, case_seed, student, reference):
    assert reference.double(n) == 2 * n and student.module == "demo"
    grade.compare("double", torch.randn(n, generator=rng))


@pytest.mark.task("a")
def test_list_assert():
    print("never shown")
    assert [1, 2, 3] == [1, 3, 3]


@pytest.mark.task("a")
def test_raises():
    raise ValueError("boom")


@pytest.mark.task("a")
def test_fails():
    pytest.fail("failing on purpose")


@pytest.mark.task("a")
def test_skips():
    pytest.skip("skipping on purpose")


@pytest.mark.task("a")
class TestClass:
    def test_fresh_instance(self):
        assert not hasattr(self, "seen")
        self.seen = True
"""


def make_assignment(root: Path, tests: dict[str, str], spec: str = SPEC) -> Assignment:
    """An assignment ``demo`` under ``root`` whose hidden tests are ``tests`` (file name -> source)."""
    folder = root / "demo"
    (folder / "tests" / "hidden").mkdir(parents=True)
    (folder / "assignment.toml").write_text(spec)
    for name, source in tests.items():
        (folder / "tests" / "hidden" / name).write_text(textwrap.dedent(source))
    return Assignment(folder)


def module(folder: Path, source: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "demo.py").write_text(source)
    return folder / "demo.py"


def grade(assignment: Assignment, student: Path, reference: Path | None) -> AssignmentResult:
    ref = import_module_from(reference) if reference else None
    return grade_assignment(assignment, LocalStudent(student), ref, seed=42)


def verdicts(result: AssignmentResult) -> dict[str, tuple[str, str]]:
    return {t.name.split("::", 1)[1]: (t.status, t.feedback.message if t.feedback else "") for t in result.tests}


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Assignment, Path]:
    return make_assignment(tmp_path, {"test_demo.py": TESTS}), module(tmp_path / "ref", REFERENCE)


def test_each_outcome_becomes_the_feedback_pytest_gave(demo: tuple[Assignment, Path], capsys):
    assignment, reference = demo
    result = grade(assignment, reference, reference)
    got = verdicts(result)
    assert {name for name, (status, _) in got.items() if status == "passed"} == {
        "test_compare",
        "test_module_value",
        "test_module_value_intact",
        "test_parametrized[one]",
        "test_parametrized[two]",
        "TestClass::test_fresh_instance",
    }
    # a failed assert explains itself as under pytest; anything else is the test's own failure: not counted, and
    # the student reads no path, frame or line of it, which go to the instructor's course_errors
    assert got["test_list_assert"] == ("failed", LIST_ASSERT)
    for name in ("test_raises", "test_fails", "test_skips"):
        assert got[name] == ("error", NOT_COUNTED)
    file = assignment.tests_dir("hidden") / "test_demo.py"
    errors = "\n".join(result.course_errors)
    assert str(file) in errors and "ValueError: boom" in errors and 'raise ValueError("boom")' in errors
    assert "Failed: failing on purpose" in errors and "Skipped: skipping on purpose" in errors
    assert "course_errors" not in result.model_dump_json()
    assert capsys.readouterr().out == ""


LIST_ASSERT = "\n".join(
    [
        "assert [1, 2, 3] == [1, 3, 3]",
        "  ",
        "  At index 1 diff: 2 != 3",
        "  ",
        "  Full diff: (-: missing in left side, +: extra in left side)",
        "    [",
        "        1,",
        "  -     3,",
        "  ?     ^",
        "  +     2,",
        "  ?     ^",
        "        3,",
        "    ]",
    ]
)


@pytest.mark.parametrize("ci", ["", "true"])
def test_a_failed_assert_explains_itself_the_same_on_ci(demo: tuple[Assignment, Path], monkeypatch, ci: str):
    # pytest shortens and truncates its explanations unless $CI is set; a student's feedback must not depend on it
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    assignment, reference = demo
    assert verdicts(grade(assignment, reference, reference))["test_list_assert"] == ("failed", LIST_ASSERT)


def test_a_long_explanation_is_cut_and_says_so():
    assert bounded(LIST_ASSERT) == LIST_ASSERT
    long = "\n".join(f"line {i}" for i in range(100))
    kept = "\n".join(long.splitlines()[:ASSERT_LINES])
    assert bounded(long) == f"{kept}\n  ... ({len(long) - len(kept)} more characters of the comparison left out)"
    assert len(bounded("x" * 10_000).splitlines()[0]) == ASSERT_CHARS


def test_a_wrong_result_is_named_and_the_task_shared(demo: tuple[Assignment, Path], tmp_path: Path):
    assignment, reference = demo
    wrong = module(tmp_path / "wrong", "def double(x):\n    return 3 * x\n")
    result = grade(assignment, wrong, reference)
    failure = next(t.feedback for t in result.tests if t.name.endswith("::test_compare"))
    assert failure and failure.kind == "value" and failure.message == "double: 'y' has 3 of 3 values wrong"
    assert result.tasks[0].max_score == 2 and len(result.tests) == 10
    # the module's value intact, and the class, of the 7 tests that count (3 are the test's own failures)
    assert result.score == pytest.approx(2 * 2 / 7)
    assert sum(t.max_score for t in result.tests) == pytest.approx(2)


def test_a_check_that_breaks_on_the_students_value_fails_that_value(tmp_path: Path):
    tests = """
import pytest, torch

@pytest.mark.task("a")
def test_custom(grade):
    y = grade.call("double", torch.ones(2))
    assert float(y.sum()) == 4.0

@pytest.mark.task("a")
def test_compare(grade):
    grade.compare("double", torch.ones(2))
"""
    assignment = make_assignment(tmp_path, {"test_custom.py": tests})
    reference = module(tmp_path / "ref", REFERENCE)
    weird = module(tmp_path / "weird", "def double(x):\n    return 10**400\n")
    result = grade(assignment, weird, reference)
    got = verdicts(result)
    assert got["test_custom"][0] == "failed" and "could not check what your code returned" in got["test_custom"][1]
    assert got["test_compare"][0] == "failed"
    assert result.score == 0 and result.max_score == 2 and not result.course_errors
    assert "Traceback" not in result.model_dump_json() and str(tmp_path) not in result.model_dump_json()


def test_a_missing_reference_fails_the_tests_that_need_it(demo: tuple[Assignment, Path]):
    assignment, reference = demo
    result = grade(assignment, reference, None)
    got = verdicts(result)
    assert got["test_parametrized[one]"] == ("error", NOT_COUNTED)  # requests the reference fixture
    assert got["test_compare"] == ("error", NOT_COUNTED)  # grade.compare calls the reference
    assert got["test_module_value_intact"] == ("passed", "")
    errors = "\n".join(result.course_errors)
    assert "in its setup phase" in errors and "in its call phase" in errors
    assert "this test needs the reference solutions, which are not present" in errors


def test_every_run_gets_fresh_fixtures_and_instances_from_one_collection(demo: tuple[Assignment, Path]):
    assignment, reference = demo
    first, second = grade(assignment, reference, reference), grade(assignment, reference, reference)
    assert verdicts(first) == verdicts(second)
    assert verdicts(second)["TestClass::test_fresh_instance"] == ("passed", "")
    tasks = frozenset({"a"})
    assert collect(assignment.tests_dir("hidden"), tasks) is collect(assignment.tests_dir("hidden"), tasks)
    assert collect.cache_info().hits >= 2


def test_an_in_process_student_cannot_change_the_tests_for_the_next_submission(
    demo: tuple[Assignment, Path], tmp_path: Path
):
    assignment, reference = demo
    in_place = module(tmp_path / "in_place", IN_PLACE)
    for student in (in_place, in_place, reference):
        assert verdicts(grade(assignment, student, reference))["test_module_value_intact"] == ("passed", "")


def test_each_test_starts_the_students_clock_with_the_time_limit(demo: tuple[Assignment, Path]):
    assignment, reference = demo
    started: list[float] = []

    class Clocked(LocalStudent):
        def start_test(self, seconds: float) -> None:
            started.append(seconds)

    grade_assignment(assignment, Clocked(reference), import_module_from(reference), 42)
    assert started == [7.0] * 10
    started.clear()
    grade_assignment(assignment, Clocked(reference), import_module_from(reference), 42, time_limit=0.5)
    assert started == [0.5] * 10


def test_same_named_test_files_in_two_folders_stay_apart(tmp_path: Path):
    test = """
        import pytest
        WHO = "{who}"

        @pytest.mark.task("a")
        def test_who():
            assert WHO == "{who}"
    """
    first = make_assignment(tmp_path / "first", {"test_same.py": test.format(who="first")})
    second = make_assignment(tmp_path / "second", {"test_same.py": test.format(who="second")})
    reference = module(tmp_path / "ref", REFERENCE)
    for _ in range(2):
        for assignment in (first, second):
            assert verdicts(grade(assignment, reference, reference)) == {"test_who": ("passed", "")}


GOOD_TEST = """

@pytest.mark.task("a")
def test_good(grade):
    grade.compare("double", torch.ones(2))
"""


def test_a_fixture_the_grader_does_not_provide_is_one_line_of_course_error(tmp_path: Path):
    tests = """
import pytest, torch

@pytest.mark.task("a")
def test_tmp(grade, tmp_path):
    pass
"""
    assignment = make_assignment(tmp_path, {"test_fixture.py": tests + GOOD_TEST})
    reference = module(tmp_path / "ref", REFERENCE)
    result = grade(assignment, reference, reference)
    assert verdicts(result) == {"test_tmp": ("error", NOT_COUNTED), "test_good": ("passed", "")}
    assert result.course_errors == [
        "demo: test_fixture.py::test_tmp requests the fixture tmp_path, which the grader does not provide; the "
        "fixtures are case_seed, rng, grade, student, reference, dataset (and the test's parametrize arguments)"
    ]
    assert result.score == result.max_score == 2


@pytest.mark.parametrize(
    ("mark", "wrong"),
    [('@pytest.mark.task("nope")', "is marked @pytest.mark.task('nope')"), ("", "has no @pytest.mark.task(ID)")],
)
def test_every_test_needs_a_known_task(tmp_path: Path, mark: str, wrong: str):
    tests = f"""
import pytest, torch

{mark}
def test_unmarked():
    pass
"""
    assignment = make_assignment(tmp_path, {"test_task.py": tests + GOOD_TEST})
    reference = module(tmp_path / "ref", REFERENCE)
    result = grade(assignment, reference, reference)
    # it counts for no task, so the student's report has nothing of it; the instructor's line says what is wrong
    assert verdicts(result) == {"test_good": ("passed", "")}
    assert result.course_errors == [
        f"demo: test_task.py::test_unmarked {wrong}, but every test needs one whose ID is a task of assignment.toml: a"
    ]


def test_a_skip_or_xfail_mark_is_one_line_of_course_error(tmp_path: Path):
    tests = """
import pytest, torch

@pytest.mark.task("a")
@pytest.mark.xfail(reason="not yet")
def test_later():
    pass
"""
    assignment = make_assignment(tmp_path, {"test_marks.py": tests + GOOD_TEST})
    reference = module(tmp_path / "ref", REFERENCE)
    result = grade(assignment, reference, reference)
    assert verdicts(result) == {"test_later": ("error", NOT_COUNTED), "test_good": ("passed", "")}
    assert result.course_errors == [
        "demo: test_marks.py::test_later is marked @pytest.mark.xfail, which the grader does not support: it runs "
        "every test"
    ]


def test_past_the_time_budget_the_tests_left_are_not_run_and_cost_their_points(tmp_path: Path):
    spec = SPEC.replace('title = "Demo"', 'title = "Demo"\ntime_budget = 0.25', 1)
    assert "time_budget" in spec
    test = '\n@pytest.mark.task("a")\ndef test_{}(grade):\n    grade.compare("double", torch.ones(2))\n'
    tests = "".join(test.format(i) for i in range(6))
    assignment = make_assignment(tmp_path, {"test_budget.py": "import pytest, torch\n" + tests}, spec)
    reference = module(tmp_path / "ref", REFERENCE)
    slow = module(tmp_path / "slow", "import time\n\ndef double(x):\n    time.sleep(0.1)\n    return 2 * x\n")
    got = verdicts(grade(assignment, slow, reference))
    over = [name for name, (status, message) in got.items() if message.startswith("not run: your code used up")]
    assert 1 <= len(over) <= 4 and all(got[name][0] == "failed" for name in over)
    assert got["test_0"] == ("passed", "")
    assert assignment.spec.budget(2 * assignment.spec.time_limit) == pytest.approx(0.5)
