"""The gradebook: every attempt of every student, kept in one SQLite file that survives an interrupted batch.

An attempt is one grading of one student's submission. It keeps the whole report as JSON, from which the
student's :class:`Outcome` is rebuilt, and one row per test, for the instructor's own SQL; and what the grade was
made of (the expected assignments, the course's fingerprint, the grader's version), so that a grade goes stale
when any of them changes, and the attempt's seed, with which ``grader run --attempt-seed`` reproduces it. An
incomplete attempt (tests the course or the sandbox failed) is retried like an error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from grader import __version__
from grader.batch.outcome import Outcome
from grader.results import GradingReport

SCHEMA_VERSION = 3

ATTEMPTS = """\
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student TEXT NOT NULL REFERENCES students (id),
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('graded', 'incomplete', 'error')),
    reason TEXT,
    score REAL,
    max_score REAL,
    duration REAL NOT NULL,
    report TEXT,
    expected TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT '',
    grader_version TEXT NOT NULL DEFAULT '',
    attempt_seed TEXT
"""
"""The columns of the attempts table, in this version and in the migration to it."""

SCHEMA = f"""
CREATE TABLE students (
    id TEXT PRIMARY KEY
);
CREATE TABLE assignments (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL
);
CREATE TABLE attempts (
{ATTEMPTS});
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
CREATE INDEX results_by_attempt ON results (attempt);
"""

MIGRATE_FROM_1 = f"""
CREATE TABLE attempts_2 (
{ATTEMPTS});
INSERT INTO attempts_2 (id, student, source, content_hash, graded_at, status, reason, score, max_score, duration,
    report) SELECT id, student, source, content_hash, graded_at, status, reason, score, max_score, duration, report
    FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_2 RENAME TO attempts;
CREATE INDEX attempts_by_student ON attempts (student, id);
"""
"""Version 1 knew no incomplete attempt and no fingerprint: its attempts are kept, with an empty fingerprint, so
that the next batch regrades every student once."""

MIGRATE_FROM_2 = "ALTER TABLE attempts ADD COLUMN attempt_seed TEXT"
"""Version 2 did not keep the attempt's seed (its hidden inputs were the same in every attempt)."""

LATEST = """
SELECT student, source, content_hash, status, reason, duration, report, expected, fingerprint FROM attempts
WHERE id IN (SELECT MAX(id) FROM attempts GROUP BY student) ORDER BY student
"""


MIGRATIONS = {1: MIGRATE_FROM_1, 2: MIGRATE_FROM_2}
"""The script that brings a gradebook of each earlier version to this one."""


class GradebookError(Exception):
    """The file is not a gradebook this version of grader can read."""


class Gradebook:
    """A gradebook file, created on first use; use it as a context manager to close it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.connection = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise GradebookError(
                f"{path}: cannot open ({error}); check that its folder exists and is writable"
            ) from None
        try:
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
            self._check_schema()
        except sqlite3.DatabaseError as error:
            self.close()
            raise GradebookError(f"{path}: not a gradebook ({error}); pass another file with --db") from None
        except GradebookError:
            self.close()
            raise

    def _check_schema(self) -> None:
        """Create the tables in an empty file; refuse a file of another schema version or of another program."""
        version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version in MIGRATIONS:
            self._migrate(MIGRATIONS[version])
            return
        if version != 0:
            raise GradebookError(
                f"{self.path}: gradebook schema version {version}, but this grader reads version {SCHEMA_VERSION}; "
                "use the grader that wrote it, or start a new gradebook with --db"
            )
        if self.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise GradebookError(f"{self.path}: an SQLite file that is not a gradebook; pass another file with --db")
        with self._transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.connection.execute(statement)
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate(self, script: str) -> None:
        """Bring a gradebook of an earlier version up to this one, in one transaction (SQLite's own procedure for
        changing a table: a new one, the rows copied, the old one dropped, with foreign keys checked after)."""
        self.connection.execute("PRAGMA foreign_keys = OFF")
        with self._transaction():
            for statement in script.split(";"):
                if statement.strip():
                    self.connection.execute(statement)
            if self.connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise sqlite3.DatabaseError("the migrated gradebook fails its foreign key check")
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.connection.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Everything inside is written together or not at all."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def record(self, outcome: Outcome) -> None:
        """Keep ``outcome`` as the student's newest attempt, in one transaction."""
        report = outcome.report
        with self._transaction():
            self.connection.execute("INSERT OR IGNORE INTO students (id) VALUES (?)", (outcome.student,))
            cursor = self.connection.execute(
                "INSERT INTO attempts (student, source, content_hash, graded_at, status, reason, score, max_score,"
                " duration, report, expected, fingerprint, grader_version, attempt_seed)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    outcome.student,
                    outcome.source,
                    outcome.content_hash,
                    datetime.now(UTC).isoformat(timespec="milliseconds"),
                    outcome.status,
                    outcome.reason,
                    report.score if report else None,
                    report.max_score if report else None,
                    outcome.duration,
                    report.model_dump_json() if report else None,
                    ",".join(outcome.expected),
                    outcome.fingerprint,
                    __version__,
                    report.attempt_seed if report else None,
                ),
            )
            if report is None:
                return
            self.connection.executemany(
                "INSERT INTO assignments (name, title) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET title = excluded.title",
                [(a.name, a.title) for a in report.assignments],
            )
            self.connection.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        cursor.lastrowid,
                        a.name,
                        t.task,
                        t.name,
                        t.status,
                        t.score,
                        t.max_score,
                        t.feedback.kind if t.feedback else None,
                        t.feedback.diagnosis if t.feedback else None,
                    )
                    for a in report.assignments
                    for t in a.tests
                ],
            )

    def needs_grading(self, student: str, content_hash: str, fingerprint: str) -> bool:
        """False only when the student's latest attempt graded this very submission completely, with the course as
        it is now (``fingerprint``: :func:`grader.fingerprint.course_fingerprint` of the expected assignments);
        errors and incomplete attempts are retried."""
        latest = self.connection.execute(
            "SELECT content_hash, status, fingerprint FROM attempts WHERE student = ? ORDER BY id DESC LIMIT 1",
            (student,),
        ).fetchone()
        return latest != (content_hash, "graded", fingerprint)

    def latest(self, known: Collection[Outcome] = ()) -> list[Outcome]:
        """Each student's latest attempt, ordered by student id; ``known`` are latest attempts the caller holds
        already (just graded), taken as they are instead of read back and parsed again."""
        held = {outcome.student: outcome for outcome in known}
        stored = [
            Outcome(
                student=student,
                source=source,
                content_hash=digest,
                status=status,
                reason=reason,
                duration=duration,
                report=GradingReport.model_validate_json(report) if report else None,
                expected=expected.split(",") if expected else [],
                fingerprint=fingerprint,
            )
            for student, source, digest, status, reason, duration, report, expected, fingerprint in (
                self.connection.execute(LATEST)
            )
            if student not in held
        ]
        return sorted([*stored, *held.values()], key=lambda outcome: outcome.student)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
