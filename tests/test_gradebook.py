"""The gradebook keeps every attempt across runs and interruptions; its exports show each student's latest."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch.export import FeedbackFormat, export_csv, export_feedback, gradebook_command
from grader.batch.gradebook import SCHEMA_VERSION, Gradebook, GradebookError
from grader.batch.outcome import Outcome
from grader.escape import markdown_text
from grader.feedback import Feedback
from grader.formats import render
from grader.results import AssignmentResult, GradingReport, TaskResult, TestResult

# (assignment, title) -> task -> [(test, points)]
COURSE: dict[tuple[str, str], dict[str, list[tuple[str, float]]]] = {
    ("rnn_forward", "The Elman RNN forward pass"): {
        "1.1": [("test_cell.py::test_batch[1]", 1.0), ("test_cell.py::test_batch[2]", 1.0)],
        "1.2": [("test_forward.py::test_sequence", 2.0)],
    },
    ("gated_cells", "Gated cells"): {
        "2.1": [("test_gru.py::test_step[1]", 1.0), ("test_gru.py::test_step[2]", 1.0)],
    },
}


def wrong(diagnosis: str) -> Feedback:
    return Feedback(kind="value", message="'h' is wrong", diagnosis=diagnosis, explanation=f"you made {diagnosis}")


TIMEOUT = Feedback(kind="timeout", message="rnn_cell did not finish within 2 s")


def graded(student: str, failures: dict[str, Feedback] | None = None, content_hash: str = "h1") -> Outcome:
    """``student``'s outcome on COURSE: every test passes but those named in ``failures``."""
    failures = failures or {}
    assignments = []
    for (name, title), tasks in COURSE.items():
        task_results = []
        for task, tests in tasks.items():
            results = [
                TestResult(
                    name=test,
                    assignment=name,
                    task=task,
                    status="failed" if test in failures else "passed",
                    score=0.0 if test in failures else points,
                    max_score=points,
                    feedback=failures.get(test),
                )
                for test, points in tests
            ]
            task_results.append(
                TaskResult(
                    id=task,
                    title=f"task {task}",
                    score=sum(r.score for r in results),
                    max_score=sum(r.max_score for r in results),
                    tests=results,
                )
            )
        assignments.append(
            AssignmentResult(
                name=name,
                title=title,
                score=sum(t.score for t in task_results),
                max_score=sum(t.max_score for t in task_results),
                tasks=task_results,
            )
        )
    report = GradingReport(submission=student, assignments=assignments, isolation="bubblewrap")
    return Outcome(
        student=student, source=f"/class/{student}", content_hash=content_hash, status="graded", report=report
    )


def errored(student: str, reason: str, content_hash: str = "h1") -> Outcome:
    return Outcome(
        student=student, source=f"/class/{student}.zip", content_hash=content_hash, status="error", reason=reason
    )


# a class of five: full marks, three mistakes (one twice), a timeout, an archive that cannot be read, one mistake
CLASS = [
    graded("alice"),
    graded(
        "bob",
        {
            "test_cell.py::test_batch[2]": wrong("rnn_missing_bias"),
            "test_forward.py::test_sequence": wrong("rnn_missing_bias"),
            "test_gru.py::test_step[1]": wrong("gru_update_flipped"),
        },
    ),
    graded("carol", {"test_cell.py::test_batch[1]": TIMEOUT}),
    errored("dave", "dave.zip is not a zip archive: re-upload it"),
    graded("erin", {"test_cell.py::test_batch[2]": wrong("rnn_missing_bias")}),
]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A gradebook holding CLASS, recorded in a scrambled order."""
    path = tmp_path / "gradebook.sqlite"
    with Gradebook(path) as gradebook:
        for outcome in reversed(CLASS):
            gradebook.record(outcome)
    return path


def test_latest_rebuilds_every_outcome_after_reopening(book: Path) -> None:
    with Gradebook(book) as gradebook:
        assert gradebook.latest() == CLASS


def test_latest_is_each_students_newest_attempt(book: Path) -> None:
    regraded = graded("bob", content_hash="h2")
    with Gradebook(book) as gradebook:
        gradebook.record(regraded)
        gradebook.record(errored("zoe", "empty folder"))
        latest = gradebook.latest()
    assert [o.student for o in latest] == ["alice", "bob", "carol", "dave", "erin", "zoe"]
    assert latest[1] == regraded


def test_latest_takes_the_attempts_the_caller_holds_as_they_are(book: Path) -> None:
    regraded, new = graded("bob", content_hash="h2"), errored("aaron", "empty folder")
    with Gradebook(book) as gradebook:
        gradebook.record(regraded)
        gradebook.record(new)
        latest = gradebook.latest(known=[regraded, new])
        assert latest == gradebook.latest()
    assert [o.student for o in latest] == ["aaron", "alice", "bob", "carol", "dave", "erin"]
    assert latest[0] is new and latest[2] is regraded


def test_needs_grading_skips_only_an_unchanged_graded_submission(book: Path) -> None:
    with Gradebook(book) as gradebook:
        assert not gradebook.needs_grading("alice", "h1", "")
        assert gradebook.needs_grading("alice", "h2", "")
        assert gradebook.needs_grading("dave", "h1", ""), "an errored attempt is retried"
        assert gradebook.needs_grading("nobody", "h1", "")
        gradebook.record(graded("alice", content_hash="h2"))
        assert gradebook.needs_grading("alice", "h1", ""), "going back to an older submission grades it again"
        gradebook.record(errored("alice", "crashed", content_hash="h2"))
        assert gradebook.needs_grading("alice", "h2", ""), "the latest attempt decides, not an older graded one"


def test_a_changed_course_or_an_incomplete_attempt_is_graded_again(book: Path) -> None:
    with Gradebook(book) as gradebook:
        gradebook.record(graded("alice").model_copy(update={"fingerprint": "course-1", "expected": ["rnn_forward"]}))
        assert not gradebook.needs_grading("alice", "h1", "course-1")
        assert gradebook.needs_grading("alice", "h1", "course-2"), "a changed test, point value or expected set"
        gradebook.record(graded("alice").model_copy(update={"fingerprint": "course-2", "status": "incomplete"}))
        assert gradebook.needs_grading("alice", "h1", "course-2"), "tests the sandbox failed are retried"
        (latest,) = [o for o in gradebook.latest() if o.student == "alice"]
        assert (latest.status, latest.fingerprint) == ("incomplete", "course-2")


def test_a_version_1_gradebook_is_migrated_and_regrades_everyone_once(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(V1_SCHEMA)
        old.execute(
            "INSERT INTO attempts (student, source, content_hash, graded_at, status, duration) "
            "VALUES ('alice', 'alice', 'h1', '2026-01-01', 'graded', 1.0)"
        )
        old.execute("PRAGMA user_version = 1")
    with Gradebook(path) as gradebook:
        (alice,) = gradebook.latest()
        assert (alice.student, alice.status, alice.fingerprint) == ("alice", "graded", "")
        assert gradebook.needs_grading("alice", "h1", "course-1"), "no fingerprint: graded before this version"
        gradebook.record(graded("bob").model_copy(update={"status": "incomplete"}))
    with sqlite3.connect(path) as migrated:
        assert migrated.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert migrated.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_version_2_gradebook_keeps_its_attempts_and_records_attempt_seeds(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    with Gradebook(path) as gradebook:
        gradebook.record(graded("alice"))
    with sqlite3.connect(path) as old:  # back to version 2: the table without the attempt's seed
        old.executescript(
            "ALTER TABLE attempts DROP COLUMN attempt_seed; PRAGMA user_version = 2;"
        )
    with Gradebook(path) as gradebook:
        (alice,) = gradebook.latest()
        assert alice.status == "graded" and not gradebook.needs_grading("alice", "h1", "")
        bob = graded("bob")
        assert bob.report is not None
        gradebook.record(bob.model_copy(update={"report": bob.report.model_copy(update={"attempt_seed": "ab" * 16})}))
    with sqlite3.connect(path) as migrated:
        assert migrated.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        seeds = dict(migrated.execute("SELECT student, attempt_seed FROM attempts"))
        assert seeds == {"alice": None, "bob": "ab" * 16}


V1_SCHEMA = """
CREATE TABLE students (id TEXT PRIMARY KEY);
CREATE TABLE assignments (name TEXT PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student TEXT NOT NULL REFERENCES students (id),
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('graded', 'error')),
    reason TEXT,
    score REAL,
    max_score REAL,
    duration REAL NOT NULL,
    report TEXT
);
CREATE INDEX attempts_by_student ON attempts (student, id);
CREATE TABLE results (
    attempt INTEGER NOT NULL REFERENCES attempts (id),
    assignment TEXT NOT NULL REFERENCES assignments (name),
    task TEXT NOT NULL,
    test TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    kind TEXT,
    diagnosis TEXT
);
INSERT INTO students VALUES ('alice');
"""


def test_an_interrupted_batch_keeps_what_it_recorded(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.sqlite"
    with pytest.raises(KeyboardInterrupt), Gradebook(path) as gradebook:
        for outcome in CLASS[:2]:
            gradebook.record(outcome)
        raise KeyboardInterrupt
    with Gradebook(path) as gradebook:
        assert gradebook.latest() == CLASS[:2]


def test_a_failed_record_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.sqlite"
    broken = graded("frank").model_copy(update={"status": "unknown"})  # the CHECK constraint refuses it
    with Gradebook(path) as gradebook:
        gradebook.record(CLASS[0])
        with pytest.raises(sqlite3.IntegrityError):
            gradebook.record(broken)
        assert gradebook.latest() == CLASS[:1]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT id FROM students ORDER BY id").fetchall() == [("alice",)]


def test_tables_hold_attempts_and_per_test_results(book: Path) -> None:
    with sqlite3.connect(book) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT name, title FROM assignments ORDER BY name").fetchall() == [
            ("gated_cells", "Gated cells"),
            ("rnn_forward", "The Elman RNN forward pass"),
        ]
        attempts = connection.execute(
            "SELECT student, status, reason, score, max_score, report IS NOT NULL FROM attempts ORDER BY student"
        ).fetchall()
        assert attempts[1] == ("bob", "graded", None, 2.0, 6.0, 1)
        assert attempts[3] == ("dave", "error", "dave.zip is not a zip archive: re-upload it", None, None, 0)
        rows = connection.execute(
            "SELECT r.assignment, r.task, r.test, r.status, r.score, r.max_score, r.kind, r.diagnosis"
            " FROM results r JOIN attempts a ON a.id = r.attempt WHERE a.student = 'bob' AND r.status = 'failed'"
            " ORDER BY r.test"
        ).fetchall()
        assert rows == [
            ("rnn_forward", "1.1", "test_cell.py::test_batch[2]", "failed", 0.0, 1.0, "value", "rnn_missing_bias"),
            ("rnn_forward", "1.2", "test_forward.py::test_sequence", "failed", 0.0, 2.0, "value", "rnn_missing_bias"),
            ("gated_cells", "2.1", "test_gru.py::test_step[1]", "failed", 0.0, 1.0, "value", "gru_update_flipped"),
        ]
        assert connection.execute("SELECT count(*) FROM results").fetchone() == (4 * 5,)


def test_a_gradebook_of_another_schema_version_is_refused(book: Path) -> None:
    with sqlite3.connect(book) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(
        GradebookError, match=rf"{re.escape(str(book))}: gradebook schema version {SCHEMA_VERSION + 1}.*--db"
    ):
        Gradebook(book)


def test_a_file_that_is_not_a_gradebook_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database, but long enough to have a header that SQLite reads and rejects" * 10)
    with pytest.raises(GradebookError, match=rf"{re.escape(str(text))}: not a gradebook.*--db"):
        Gradebook(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (x)")
    with pytest.raises(GradebookError, match=rf"{re.escape(str(other))}: an SQLite file that is not a gradebook"):
        Gradebook(other)
    with pytest.raises(GradebookError, match=r"cannot open.*folder exists"):
        Gradebook(tmp_path / "missing" / "gradebook.sqlite")


def test_csv_has_a_row_per_student_and_a_column_per_assignment_and_task(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    export_csv(CLASS, path)
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert reader.fieldnames == [
        "student",
        "rnn_forward",
        "rnn_forward.1.1",
        "rnn_forward.1.2",
        "gated_cells",
        "gated_cells.2.1",
        "total",
        "max",
        "percent",
        "status",
        "reason",
    ]
    assert [row["student"] for row in rows] == ["alice", "bob", "carol", "dave", "erin"]
    assert rows[1] == {
        "student": "bob",
        "rnn_forward": "1",
        "rnn_forward.1.1": "1",
        "rnn_forward.1.2": "0",
        "gated_cells": "1",
        "gated_cells.2.1": "1",
        "total": "2",
        "max": "6",
        "percent": "33.33",
        "status": "graded",
        "reason": "",
    }
    assert rows[3] == dict.fromkeys(reader.fieldnames, "") | {
        "student": "dave",
        "status": "error",
        "reason": "dave.zip is not a zip archive: re-upload it",
    }


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_one_feedback_file_per_student(tmp_path: Path, fmt: FeedbackFormat) -> None:
    folder = tmp_path / "feedback"
    written = export_feedback(CLASS, folder, fmt)
    suffix = ".md" if fmt == "markdown" else ".html"
    assert sorted(folder.iterdir()) == written == [folder / f"{o.student}{suffix}" for o in CLASS]
    assert (folder / f"bob{suffix}").read_text() == render(CLASS[1].report, fmt)  # type: ignore[arg-type]
    dave = (folder / f"dave{suffix}").read_text()
    reason = "could not be graded: dave.zip is not a zip archive: re-upload it"
    assert (markdown_text(reason) if fmt == "markdown" else reason) in dave
    assert "Tests passed" not in dave and "rnn_forward" not in dave


def test_a_student_id_that_is_not_a_file_name_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'\.\.' is not a file name"):
        export_feedback([CLASS[0], errored("..", "?")], tmp_path / "feedback")
    assert not (tmp_path / "feedback").exists()


def test_export_command_writes_csv_and_feedback(book: Path, tmp_path: Path) -> None:
    grades, folder = tmp_path / "grades.csv", tmp_path / "feedback"
    args = ["export", "--db", str(book), "--csv", str(grades), "--feedback", str(folder), "--format", "html"]
    result = CliRunner().invoke(gradebook_command, args)
    assert result.exit_code == 0, result.output
    assert f"{grades}: 5 students" in result.output and f"{folder}: 5 feedback files" in result.output
    assert len(grades.read_text().splitlines()) == 1 + 5
    assert sorted(p.name for p in folder.iterdir()) == [f"{o.student}.html" for o in CLASS]


def test_export_command_refuses_nothing_to_do_and_a_foreign_file(book: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(gradebook_command, ["export", "--db", str(book)])
    assert result.exit_code == 2 and "nothing to export: give --csv FILE, --feedback DIR" in result.output
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (x)")
    result = CliRunner().invoke(gradebook_command, ["export", "--db", str(other), "--csv", str(tmp_path / "g.csv")])
    assert result.exit_code == 2 and "an SQLite file that is not a gradebook" in result.stderr


def test_export_command_refuses_a_student_id_that_is_not_a_file_name(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
        gradebook.record(errored("..", "?"))
    args = ["export", "--db", str(tmp_path / "gradebook.sqlite"), "--feedback", str(tmp_path / "feedback")]
    result = CliRunner().invoke(gradebook_command, args)
    assert result.exit_code == 2 and "error: student id '..' is not a file name: rename" in result.stderr
