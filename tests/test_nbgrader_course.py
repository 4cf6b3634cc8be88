"""An nbgrader course that grades with grader: re-releasing its sources, ``grader batch`` on the course and on its
``submitted/`` folder, and the grades written back into nbgrader's own gradebook; at the end, the whole round with
nbgrader's real commands (generate_assignment, validate, autograde, export) on a course with ``timestamp.txt``s."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
import torch
from click.testing import CliRunner
from conftest import GRADER, ROOT
from nbgrader.api import Gradebook as NbgraderGradebook

from grader.batch.archives import ArchiveError
from grader.batch.discover import discover, prepare, source_hash
from grader.batch.gradebook import Gradebook
from grader.batch.outcome import Outcome
from grader.cli import main
from grader.feedback import Feedback
from grader.release.nbgrader import CHECKS, RECORD, Unportable, digest, literal
from grader.results import AssignmentResult, GradingReport, TaskResult, TestResult

NAMES = ["rnn_forward", "gated_cells"]
BIN = Path(sys.executable).parent
TASKS = {"cell": 3.0, "forward": 3.0, "readout": 2.0, "scalar": 2.0}
FUNCTIONS = {"cell": "rnn_cell", "forward": "rnn_forward", "readout": "linear_readout", "scalar": "scalar_rnn"}
COURSE_ID = "recurrent-neural-networks"


def release(out: Path, *extra: str) -> tuple[int, str]:
    args = ["release", "rnn_forward", "--format", "nbgrader", "--out", str(out), "--course", str(ROOT), *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def notebook_of(course: Path) -> Path:
    return course / "source" / "rnn_forward" / "rnn_forward.ipynb"


def test_a_re_release_keeps_the_instructors_edits_unless_forced(tmp_path: Path):
    """Unchanged, or only run and saved in Jupyter, a source is left as it is; edited, it is refused by name (and
    nothing written) until --force; one grader wrote, and the course changed since, is rewritten; the instructor's
    nbgrader_config.py is never overwritten."""
    course = tmp_path / "course"
    assert release(course)[0] == 0
    path = notebook_of(course)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[-1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2.0"}, execution_count=1)]
    nbformat.write(notebook, path)
    code, output = release(course)
    assert code == 0 and "is already as grader writes it" in output, output
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'mine'\n")
    notebook.cells[0].source = "# My own introduction"
    nbformat.write(notebook, path)
    edited = path.read_bytes()
    code, output = release(course)
    assert code == 2, output
    assert f"{path}: edited since grader released it" in output and "--force" in output
    assert path.read_bytes() == edited
    code, output = release(course, "--force")
    assert code == 0 and "kept your" in output, output
    assert "# My own introduction" not in path.read_text()
    assert "'mine'" in (course / "nbgrader_config.py").read_text()
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "# what an earlier release of the course wrote"
    nbformat.write(notebook, path)
    record = course / RECORD
    record.write_text(record.read_text().replace(record.read_text().split('"')[5], digest(notebook)))
    code, output = release(course)
    assert code == 0 and f"wrote {path}" in output, output


def test_a_test_cells_data_is_the_public_tests_own():
    """Every value a public test passes comes back in the kernel exactly: dtypes, shapes (empty, 0-dim), NaN and
    infinities; anything but plain data keeps the test out of the notebook."""
    values = (
        torch.tensor([[0.1, float("nan")], [float("-inf"), 2.5]], dtype=torch.float32),
        torch.zeros(0, 3, dtype=torch.float64),
        torch.tensor(7),
        torch.tensor([True, False]),
        {"k": [1, 2.0, None, "s"], 3: (float("inf"),)},
    )
    namespace: dict[str, object] = {}
    exec(CHECKS, namespace)
    back = eval(literal(values), namespace)
    assert all(type(a) is type(b) for a, b in zip(back, values, strict=True)) and back[4] == values[4]
    for got, expected in zip(back[:4], values[:4], strict=True):
        assert got.dtype == expected.dtype and torch.equal(got.nan_to_num(), expected.nan_to_num())
    with pytest.raises(Unportable, match="passes a object"):
        literal([object()])


def test_force_goes_with_nbgrader_only(tmp_path: Path):
    code, output = release(tmp_path / "bundle", "--format", "bundle", "--force")
    assert code == 2 and "--force goes with --format nbgrader" in output


def nbgrader_course(root: Path) -> Path:
    """An nbgrader course's root with everything nbgrader writes, and alice's submission of rnn_forward."""
    for folder in ("source/rnn_forward", "release/rnn_forward", "autograded/alice/rnn_forward", "feedback"):
        (root / folder).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    (root / "gradebook.db").write_bytes(b"")
    (root / ".nbgrader.log").write_text("")
    mine = root / "submitted" / "alice" / "rnn_forward"
    (mine / ".ipynb_checkpoints").mkdir(parents=True)
    (mine / "rnn_forward.ipynb").write_text("{}")
    (mine / "timestamp.txt").write_text("2026-01-10 10:00:00.000000 UTC")
    (mine / ".ipynb_checkpoints" / "rnn_forward-checkpoint.ipynb").write_text("{}")
    (root / "submitted" / ".ipynb_checkpoints").mkdir()
    return root


@pytest.mark.parametrize("given", ["course", "course/submitted"])
def test_batch_finds_the_students_in_an_nbgrader_course_and_its_submitted_folder(tmp_path: Path, given: str):
    nbgrader_course(tmp_path / "course")
    (entry,) = discover(tmp_path / given)
    assert (entry.student, entry.kind) == ("alice", "nbgrader")
    prepared = prepare(entry, tmp_path, NAMES)
    assert sorted(p.name for p in prepared.folder.iterdir() if p.is_file()) == ["rnn_forward.ipynb"]
    assert not prepared.notes and not prepared.refused


def test_a_renamed_submitted_folder_beside_nbgrader_config_is_nbgraders_layout(tmp_path: Path):
    course = nbgrader_course(tmp_path / "course")
    (course / "submitted").rename(course / "collected")
    (course / "collected" / "notes.txt").write_text("not a student")
    found = discover(course / "collected")
    assert [(e.student, e.kind) for e in found] == [("alice", "nbgrader"), ("notes.txt", "unknown")]


def submitted(root: Path, files: dict[str, str]) -> Path:
    """bob's nbgrader folder, ``files``: path under submitted/bob/ -> contents."""
    for name, text in files.items():
        (root / "submitted" / "bob" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submitted" / "bob" / name).write_text(text)
    return root


def test_a_module_in_two_assignment_folders_is_refused_only_when_ambiguous(tmp_path: Path):
    """The same copy twice is one module; different copies: the one in the assignment named after it is graded (and
    the other named in a note); elsewhere, the student must say which."""
    same = submitted(tmp_path / "same", {"week1/rnn_forward.py": "x = 1\n", "week2/rnn_forward.py": "x = 1\n"})
    (entry,) = discover(same)
    prepared = prepare(entry, tmp_path / "same", NAMES)
    assert (prepared.folder / "rnn_forward.py").read_text() == "x = 1\n" and not prepared.notes
    own = submitted(
        tmp_path / "own", {"gated_cells/rnn_forward.py": "x = 2\n", "rnn_forward/rnn_forward.py": "x = 1\n"}
    )
    (entry,) = discover(own)
    prepared = prepare(entry, tmp_path / "own", NAMES)
    assert (prepared.folder / "rnn_forward.py").read_text() == "x = 1\n"
    assert prepared.notes == [
        "gated_cells/rnn_forward.py differs from rnn_forward/rnn_forward.py; graded the one in rnn_forward/"
    ]
    clash = submitted(tmp_path / "clash", {"week1/rnn_forward.py": "x = 1\n", "week2/rnn_forward.py": "x = 2\n"})
    (entry,) = discover(clash)
    with pytest.raises(ArchiveError, match=r"week1/rnn_forward.py and week2/rnn_forward.py: .* different contents"):
        prepare(entry, tmp_path / "clash", NAMES)
    assert source_hash(entry, NAMES) != source_hash(discover(same)[0], NAMES)


def test_a_course_none_of_whose_students_can_be_graded_exits_2(tmp_path: Path):
    """nbgrader's folders holding only its bookkeeping: every student errors, and the batch says so (no sandbox is
    started)."""
    course = tmp_path / "course"
    for student in ("alice", "bob"):
        (course / "submitted" / student / "rnn_forward").mkdir(parents=True)
        (course / "submitted" / student / "rnn_forward" / "timestamp.txt").write_text("2026-01-10 10:00:00 UTC")
    run = grader_batch(course / "submitted", tmp_path / "gradebook.sqlite")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no submission could be graded" in run.stderr
    assert "timestamp" not in run.stdout + run.stderr


def grader_batch(folder: Path, db: Path) -> subprocess.CompletedProcess[str]:
    args = [*GRADER, "batch", str(folder), "--db", str(db), "-a", "rnn_forward", "--course", str(ROOT), "--jobs", "2"]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


# ---------------------------------------------------------------- nbgrader's gradebook, filled in-process


def result(scores: dict[str, float], failing: str | None = None) -> AssignmentResult:
    """rnn_forward with each task's score, its tests two halves; ``failing``'s function fails one test."""
    tasks = []
    for task, score in scores.items():
        tests = [
            TestResult(
                name=f"test_rnn_forward_hidden.py::test_{task}[{i}]",
                assignment="rnn_forward",
                task=task,
                status="passed" if score >= TASKS[task] / 2 * (i + 1) else "failed",
                score=TASKS[task] / 2 if score >= TASKS[task] / 2 * (i + 1) else 0.0,
                max_score=TASKS[task] / 2,
                feedback=None
                if score >= TASKS[task] / 2 * (i + 1)
                else Feedback(kind="value", message=f"'h' is wrong in test {i}", function=FUNCTIONS[task]),
            )
            for i in range(2)
        ]
        tasks.append(TaskResult(id=task, title=task, score=score, max_score=TASKS[task], tests=tests))
    total = sum(scores.values())
    return AssignmentResult(name="rnn_forward", title="The Elman RNN", score=total, max_score=10.0, tasks=tasks)


def outcome(student: str, scores: dict[str, float] | None, status: str = "graded") -> Outcome:
    report = None
    if scores is not None:
        report = GradingReport(submission=student, assignments=[result(scores)], isolation="test")
    return Outcome(
        student=student,
        source=f"submitted/{student}",
        content_hash="h",
        status=status,  # type: ignore[arg-type]
        reason="none of the course's modules is here" if report is None else None,
        report=report,
        expected=["rnn_forward"],
    )


@pytest.fixture(autouse=True)
def alembic(monkeypatch):
    """nbgrader makes a new gradebook with the alembic command beside it."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")


def nbgrader_db(course: Path, points: dict[str, float] = TASKS) -> str:
    """nbgrader's gradebook of a course released by grader (what generate_assignment records), with alice in it."""
    url = f"sqlite:///{course / 'gradebook.db'}"
    with warnings.catch_warnings(), NbgraderGradebook(url, COURSE_ID) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's, about nbgrader's own code
        gb.add_assignment("rnn_forward", duedate="2026-02-01 00:00:00 UTC")
        gb.add_notebook("rnn_forward", "rnn_forward")
        for task, value in points.items():
            gb.add_grade_cell(f"test_{task}", "rnn_forward", "rnn_forward", max_score=value, cell_type="code")
        for function in FUNCTIONS.values():
            gb.add_solution_cell(f"code_{function}", "rnn_forward", "rnn_forward")
        gb.add_student("alice")
        gb.add_submission("rnn_forward", "alice")
        gb.find_grade("test_readout", "rnn_forward", "rnn_forward", "alice").manual_score = 1.0
        gb.db.commit()
    return url


def class_of(course: Path, db: Path) -> None:
    """alice and bob submitted rnn_forward to nbgrader (bob late, and nbgrader does not know him yet), carol's
    submission errored, dave handed nothing in to nbgrader; grader graded them."""
    times = {"alice": "2026-01-10 10:00:00.000000 UTC", "bob": "2026-02-03 00:00:00 UTC", "carol": "2026-01-11 9:00"}
    for student, time in times.items():
        (course / "submitted" / student / "rnn_forward").mkdir(parents=True)
        (course / "submitted" / student / "rnn_forward" / "timestamp.txt").write_text(time)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
        'c.LateSubmissionPlugin.penalty_method = "zero"\n'
    )
    with Gradebook(db) as gradebook:
        gradebook.record(outcome("alice", {"cell": 3.0, "forward": 1.5, "readout": 2.0, "scalar": 2.0}))
        gradebook.record(outcome("bob", {"cell": 1.5, "forward": 3.0, "readout": 0.0, "scalar": 2.0}))
        gradebook.record(outcome("carol", None, "error"))
        gradebook.record(outcome("dave", dict(TASKS)))


def export(db: Path, course: Path) -> tuple[int, str]:
    args = ["gradebook", "export", "--db", str(db), "--nbgrader", str(course)]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_the_grades_go_into_nbgraders_gradebook(tmp_path: Path):
    """Each task's score is its grade cell's auto_score (a manual score is kept, and flagged for review), the failed
    tests' feedback the comment of their function's cell, the submission time nbgrader's; bob is added; the late
    penalty is nbgrader's own; carol (errored) and dave (nothing handed in to nbgrader) are left out, and said so."""
    course = tmp_path / "course"
    course.mkdir()
    url = nbgrader_db(course)
    class_of(course, tmp_path / "grades.sqlite")
    code, output = export(tmp_path / "grades.sqlite", course)
    assert code == 0, output
    assert "2 submissions of 2 students (8 grades)" in output and "1 assignments not handed in" in output
    assert "added to nbgrader's gradebook, which did not know them: bob" in output
    assert "bob/rnn_forward: 172800 s late, nbgrader's late penalty 6.5" in output
    assert "carol: not written (error: none of the course's modules is here)" in output
    with NbgraderGradebook(url, COURSE_ID) as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob"]
        alice = gb.find_submission("rnn_forward", "alice")
        grades = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in alice.notebooks[0].grades}
        assert grades == {
            "test_cell": (3.0, None, False),
            "test_forward": (1.5, None, False),
            "test_readout": (2.0, 1.0, True),
            "test_scalar": (2.0, None, False),
        }
        assert str(alice.timestamp) == "2026-01-10 10:00:00"
        comments = {c.name: c.auto_comment for c in alice.notebooks[0].comments}
        assert comments["code_rnn_forward"] == "test_rnn_forward_hidden.py::test_forward[1]: 'h' is wrong in test 1"
        assert comments["code_rnn_cell"] is None and comments["code_linear_readout"] is None
        bob = gb.find_submission("rnn_forward", "bob")
        assert (bob.score, bob.notebooks[0].late_submission_penalty) == (6.5, 6.5)
        linear = gb.find_comment("code_linear_readout", "rnn_forward", "rnn_forward", "bob").auto_comment
        assert linear.count("'h' is wrong") == 2


def test_an_nbgrader_course_that_cannot_take_the_grades_is_refused_before_anything_is_written(tmp_path: Path):
    course = tmp_path / "course"
    course.mkdir()
    class_of(course, tmp_path / "grades.sqlite")
    code, output = export(tmp_path / "grades.sqlite", course)
    assert code == 2 and f"{course / 'gradebook.db'}: no nbgrader gradebook" in output, output
    assert not (course / "gradebook.db").exists()
    url = nbgrader_db(course, {"cell": 3.0, "forward": 3.0, "readout": 2.0})
    code, output = export(tmp_path / "grades.sqlite", course)
    assert code == 2 and "no notebook rnn_forward with a grade cell test_scalar" in output, output
    with NbgraderGradebook(url, COURSE_ID) as gb:
        assert [s.id for s in gb.students] == ["alice"]
        assert gb.find_grade("test_cell", "rnn_forward", "rnn_forward", "alice").auto_score is None
    (course / "gradebook.db").unlink()
    nbgrader_db(course, {**TASKS, "cell": 4.0})
    code, output = export(tmp_path / "grades.sqlite", course)
    assert code == 2 and "test_cell of rnn_forward is worth 4 points, the task 3" in output, output


# ---------------------------------------------------------------- the real thing


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``nbgrader ARGS`` run in the course, as its instructor runs it (its own config only)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "JUPYTER_CONFIG_DIR": str(course / ".jp")}
    done = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def hand_in(course: Path, student: str, time: str, solve: bool, mistake: bool = False) -> None:
    """``student``'s rnn_forward as nbgrader collects it: the released notebook, filled in with the reference's code
    when ``solve`` (``mistake``: rnn_cell returns float64 whatever its inputs), and a timestamp.txt."""
    solutions = {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in nbformat.read(notebook_of(course), as_version=4).cells
    }
    notebook = nbformat.read(course / "release" / "rnn_forward" / "rnn_forward.ipynb", as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.nbgrader["grade_id"]
        if solve and cell.metadata.nbgrader["solution"]:
            cell.source = solutions[grade_id]
            if mistake and grade_id == "code_rnn_cell":
                cell.source = cell.source.replace("    return h\n", "    return h.double()\n")
    folder = course / "submitted" / student / "rnn_forward"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "rnn_forward.ipynb")
    (folder / "timestamp.txt").write_text(time)
    (folder / ".ipynb_checkpoints").mkdir()


@pytest.fixture(scope="module")
def real_course(tmp_path_factory) -> Path:
    """rnn_forward released by grader, generated by nbgrader with a due date and late penalties."""
    course = tmp_path_factory.mktemp("real") / "course"
    code, output = release(course)
    assert code == 0, output
    with (course / "nbgrader_config.py").open("a") as config:
        config.write('c.LateSubmissionPlugin.penalty_method = "zero"\n')
    nbgrader(course, "generate_assignment", "rnn_forward")
    nbgrader(course, "db", "assignment", "add", "rnn_forward", "--duedate=2026-02-01 00:00:00 UTC")
    return course


@pytest.mark.slow
def test_nbgrader_validate_fails_the_starter_and_passes_the_reference(real_course: Path):
    on_reference = nbgrader(real_course, "validate", "source/rnn_forward/rnn_forward.ipynb")
    assert "Success! Your notebook passes all the tests." in on_reference.stdout, on_reference.stdout
    on_starter = nbgrader(real_course, "validate", "release/rnn_forward/rnn_forward.ipynb")
    assert "VALIDATION FAILED ON 4 CELL(S)!" in on_starter.stdout, on_starter.stdout


def grades(course: Path, student: str) -> dict[str, float]:
    """``student``'s score of each task of rnn_forward in nbgrader's gradebook."""
    with NbgraderGradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        notebook = gb.find_submission("rnn_forward", student).notebooks[0]
        return {grade.name.removeprefix("test_"): grade.score for grade in notebook.grades}


@pytest.mark.slow
def test_an_nbgrader_course_graded_by_nbgrader_then_by_grader(real_course: Path, tmp_path: Path):
    """nbgrader autograde scores the public tests honestly (a share of a task for a partly right answer); grader
    batch grades the course, and its submitted/ folder alike, with the hidden tests; the export puts grader's
    scores in nbgrader's gradebook, with nbgrader's late penalty, which nbgrader export then reports."""
    course = real_course
    hand_in(course, "alice", "2026-01-10 10:00:00.000000 UTC", solve=True)
    hand_in(course, "bob", "2026-01-11 10:00:00.000000 UTC", solve=False)
    hand_in(course, "carol", "2026-02-02 10:00:00.000000 UTC", solve=True, mistake=True)
    nbgrader(course, "autograde", "rnn_forward")
    assert grades(course, "alice") == TASKS
    assert grades(course, "bob") == dict.fromkeys(TASKS, 0.0)
    assert grades(course, "carol") == {**TASKS, "cell": 1.5}
    hand_in(course, "erin", "2026-01-12 10:00:00.000000 UTC", solve=True)  # after nbgrader's autograde
    scores = {}
    for given, db in ((course, tmp_path / "course.sqlite"), (course / "submitted", tmp_path / "submitted.sqlite")):
        run = grader_batch(given, db)
        assert run.returncode == 0, run.stdout + run.stderr
        with Gradebook(db) as gradebook:
            found = {o.student: o for o in gradebook.latest()}
        assert sorted(found) == ["alice", "bob", "carol", "erin"]
        assert all(o.status == "graded" and o.report is not None and not o.report.notes for o in found.values())
        scores[given] = {student: o.report.score for student, o in found.items() if o.report}
        assert scores[given]["alice"] == scores[given]["erin"] == 10 and scores[given]["bob"] == 0
        assert 0 < scores[given]["carol"] < 10
    code, output = export(tmp_path / "course.sqlite", course)
    assert code == 0 and "added to nbgrader's gradebook, which did not know them: erin" in output, output
    with Gradebook(tmp_path / "course.sqlite") as gradebook:
        carol = next(o for o in gradebook.latest() if o.student == "carol")
    assert carol.report is not None
    assert grades(course, "carol") == {task.id: task.score for task in carol.report.assignments[0].tasks}
    assert grades(course, "erin") == TASKS
    with NbgraderGradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        comment = gb.find_comment("code_rnn_cell", "rnn_forward", "rnn_forward", "carol").auto_comment
    assert "has the wrong dtype" in comment
    nbgrader(course, "export")
    with (course / "grades.csv").open() as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert float(rows["alice"]["score"]) == 10 and float(rows["bob"]["score"]) == 0
    assert float(rows["carol"]["raw_score"]) == pytest.approx(carol.report.score)
    assert float(rows["carol"]["late_submission_penalty"]) == pytest.approx(carol.report.score)
    assert float(rows["carol"]["score"]) == 0
