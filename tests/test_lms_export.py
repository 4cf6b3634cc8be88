"""``grader gradebook export --roster``: the roster joined into the plain CSV and Canvas's and Moodle's import files,
no student left out, no cell a formula, and a roster that cannot be used refused by file, line and fix."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_gradebook import CLASS, graded

from grader.batch.export import gradebook_command
from grader.batch.gradebook import Gradebook
from grader.batch.outcome import Outcome
from grader.batch.roster import RosterError, read_roster

ROSTER = """\
Folder,Name,ID,SIS User ID,SIS Login ID,Email,Section
alice,"Liddell, Alice",101,S1,alice1,alice@uni.edu,Section A
bob,"Builder, Bob",102,S2,bob2,bob@uni.edu,Section A
carol,"=HYPERLINK(""http://evil"")",103,S3,carol3,carol@uni.edu,Section B
dave,"Dent, Dave",104,S4,,,Section B
zoe,"Zed, Zoe",105,S5,zoe5,zoe@uni.edu,Section B
"""
"""CLASS's students but erin, one of whose name is a formula, dave without email, and zoe, who submitted nothing."""

HOSTILE = ["=1+1", "Points Possible", "@SUM(A1)"]
"""Folders that the roster does not name, and would be a formula or Canvas's points row as they are."""


def incomplete(student: str) -> Outcome:
    return graded(student).model_copy(update={"status": "incomplete"})


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A folder holding the gradebook of CLASS, HOSTILE and one incomplete attempt, and ROSTER."""
    with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
        for outcome in [*CLASS, *map(graded, HOSTILE), incomplete("frank")]:
            gradebook.record(outcome)
    (tmp_path / "roster.csv").write_text(ROSTER + "frank,Frank,106,S6,frank6,frank@uni.edu,\n", encoding="utf-8")
    return tmp_path


def export(folder: Path, *args: str) -> Result:
    db, roster = str(folder / "gradebook.sqlite"), str(folder / "roster.csv")
    return CliRunner().invoke(gradebook_command, ["export", "--db", db, "--roster", roster, *args])


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_canvas_file_has_canvas_columns_points_possible_and_every_student(course: Path) -> None:
    canvas = course / "canvas.csv"
    titles = ["--lms-column", "rnn_forward=Elman RNN (4567)", "--lms-column", "gated_cells=+GRU"]
    result = export(course, "--canvas", str(canvas), *titles)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{canvas}: 10 students, for Canvas's gradebook import\n"
    assert rows(canvas) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Elman RNN (4567)", "'+GRU"],
        ["Points Possible", "", "", "", "", "4", "2"],
        ["'=1+1", "", "", "", "", "4", "2"],
        ["'@SUM(A1)", "", "", "", "", "4", "2"],
        ["Points-Possible", "", "", "", "", "4", "2"],  # not Canvas's row of points
        ["Liddell, Alice", "101", "S1", "alice1", "Section A", "4", "2"],
        ["Builder, Bob", "102", "S2", "bob2", "Section A", "1", "1"],
        ['\'=HYPERLINK("http://evil")', "103", "S3", "carol3", "Section B", "3", "2"],
        ["Dent, Dave", "104", "S4", "", "Section B", "", ""],  # could not be graded
        ["erin", "", "", "", "", "3", "2"],  # no roster entry: listed, with no ids
        ["Frank", "106", "S6", "frank6", "", "", ""],  # incomplete: not counted either way
        ["Zed, Zoe", "105", "S5", "zoe5", "Section B", "", ""],  # no submission
    ]
    assert result.stderr.splitlines() == [
        "warning: no roster entry for '=1+1', '@SUM(A1)', 'Points Possible', 'erin': their ids are left empty; "
        f"add them to {course / 'roster.csv'}",
        f"warning: no submission from 'zoe' (line 6) of {course / 'roster.csv'}: listed without a score",
        "warning: 'dave': error, so left without a score in the LMS files; see the CSV's reason",
        "warning: 'frank': incomplete, so left without a score in the LMS files; see the CSV's reason",
    ]


def test_moodle_file_puts_the_students_moodle_cannot_match_first(course: Path) -> None:
    moodle = course / "moodle.csv"
    result = export(course, "--moodle", str(moodle))
    assert result.exit_code == 0, result.output
    assert rows(moodle) == [
        ["Email address", "Student", "rnn_forward", "gated_cells"],
        ["", "'=1+1", "4", "2"],
        ["", "'@SUM(A1)", "4", "2"],
        ["", "Points Possible", "4", "2"],
        ["", "Dent, Dave", "", ""],
        ["", "erin", "3", "2"],
        ["alice@uni.edu", "Liddell, Alice", "4", "2"],
        ["bob@uni.edu", "Builder, Bob", "1", "1"],
        ["carol@uni.edu", '\'=HYPERLINK("http://evil")', "3", "2"],
        ["frank@uni.edu", "Frank", "", ""],
        ["zoe@uni.edu", "Zed, Zoe", "", ""],
    ]
    assert result.stderr.splitlines()[-1] == (
        "warning: '=1+1', '@SUM(A1)', 'Points Possible', 'dave', 'erin': no email in the roster; "
        "Moodle refuses the file until each row has one"
    )
    by_number = course / "by-number.csv"
    assert export(course, "--moodle", str(by_number), "--moodle-key", "idnumber").exit_code == 0
    assert rows(by_number)[0][0] == "ID number"
    assert [row[0] for row in rows(by_number)[5:]] == ["S1", "S2", "S3", "S4", "S6", "S5"]


def test_plain_csv_gains_the_roster_s_columns_and_its_students_without_a_submission(course: Path) -> None:
    grades = course / "grades.csv"
    result = export(course, "--csv", str(grades))
    assert result.exit_code == 0, result.output
    with grades.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        table = {row["student"]: row for row in reader}
    assert reader.fieldnames is not None
    assert reader.fieldnames[:7] == ["student", "name", "lms_id", "sis_id", "login", "email", "section"]
    assert table["carol"]["name"] == '\'=HYPERLINK("http://evil")' and table["'=1+1"]["email"] == ""
    assert {k: table["zoe"][k] for k in ("lms_id", "total", "status", "reason")} == {
        "lms_id": "105",
        "total": "",
        "status": "missing",
        "reason": "no submission",
    }
    assert table["bob"]["total"] == "2" and table["frank"]["status"] == "incomplete"
    assert len(table) == 10


def test_a_roster_in_a_spreadsheet_s_own_dialect_is_read(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    text = (
        "\ufeffFolder_Name;First Name;Last Name;Student Number;E-Mail Address;Notes\r\n"
        "alice;Alice;Liddell;S1;Alice@Uni.edu;sits at the back\r\n\r\n;;;;;\r\n"
        'bob;Bob;"Builder; Jr";S2;;\r\n'
    )
    path.write_text(text, encoding="utf-8")
    roster = read_roster(path)
    assert roster.fields == ["name", "sis_id", "email"]
    alice, bob = roster.entries.values()
    assert (alice.folder, alice.name, alice.sis_id, alice.email) == ("alice", "Liddell, Alice", "S1", "Alice@Uni.edu")
    assert (alice.line, bob.name, bob.email, bob.line) == (2, "Builder; Jr, Bob", "", 5)


BAD_ROSTERS = {
    "no folder column": ("name,email\nAlice,a@x\n", "line 1: no folder column (columns: 'name', 'email'); name"),
    "a folder twice": ("folder,name\nalice,A\nbob,B\nalice,C\n", "line 4: folder 'alice' is on line 2 too"),
    "an email twice": (
        "folder,email\nalice,alice@uni.edu\nbob,ALICE@uni.edu\n",
        "line 3: email 'ALICE@uni.edu' is also 'alice''s, on line 2",
    ),
    "an id twice": ("folder,ID\nalice,7\nbob,7\n", "line 3: lms_id '7' is also 'alice''s"),
    "a field twice": ("folder,Email,E-mail\nalice,a,b\n", "line 1: columns 'Email' and 'E-mail' both give the email"),
    "a row too long": ("folder,name\nalice,Liddell, Alice\n", "line 2: 3 cells, but the header has 2; quote"),
    "no folder name": ("folder,name\nalice,A\n,B\n", "line 3: no folder name; give the student's submission folder"),
    "not UTF-8": (b"folder,name\nalice,A\nbob,B\xe9\n", "line 3: not UTF-8; save the roster as CSV UTF-8"),
    "a quote left open": ('folder,name\nalice,"A\n', "line 2: not CSV (unexpected end of data); check the quotes"),
    "empty": ("\n\n", "empty; its first line names the columns"),
}


@pytest.mark.parametrize("text, message", BAD_ROSTERS.values(), ids=BAD_ROSTERS)
def test_a_roster_that_cannot_be_used_is_refused_by_file_and_line(
    course: Path, text: str | bytes, message: str
) -> None:
    roster = course / "roster.csv"
    roster.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RosterError) as raised:
        read_roster(roster)
    assert str(raised.value).startswith(f"{roster}: {message}")
    result = export(course, "--csv", str(course / "grades.csv"))
    assert result.exit_code == 2 and result.stderr == f"error: {raised.value}\n"
    assert not (course / "grades.csv").exists()


@pytest.mark.parametrize(
    "args, roster, message",
    [
        (["--canvas", "c.csv"], None, "--canvas and --moodle need --roster FILE"),
        (["--canvas", "c.csv"], "folder,email\nalice,a@x\n", "roster.csv: no lms_id, sis_id or login column"),
        (["--moodle", "m.csv", "--moodle-key", "username"], "folder,ID,email\nalice,1,a@x\n", "no login column"),
        (["--moodle", "m.csv", "--moodle-key", "email"], "folder,name\nalice,A\n", "roster.csv: no email column"),
        (["--canvas", "c.csv", "--lms-column", "rnn_forward"], ROSTER, "--lms-column 'rnn_forward': give ASSIGN"),
        (["--canvas", "c.csv", "--lms-column", "bptt=BPTT"], ROSTER, "--lms-column bptt: not graded in this grade"),
        (["--canvas", "c.csv", "--lms-column", "rnn_forward=gated_cells"], ROSTER, "are both titled"),
    ],
)
def test_an_lms_export_that_could_not_match_is_refused_before_writing(
    course: Path, args: list[str], roster: str | None, message: str
) -> None:
    options = ["export", "--db", str(course / "gradebook.sqlite"), *args]
    if roster is not None:
        (course / "roster.csv").write_text(roster, encoding="utf-8")
        options += ["--roster", str(course / "roster.csv")]
    result = CliRunner().invoke(gradebook_command, [str(course / a) if a.endswith(".csv") else a for a in options])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (course / "c.csv").exists() and not (course / "m.csv").exists()


def test_points_that_differ_between_students_are_the_most_and_named(tmp_path: Path) -> None:
    bob = graded("bob")
    assert bob.report is not None
    bigger = bob.report.assignments[0].model_copy(update={"max_score": 6.0})
    bob = bob.model_copy(update={"report": bob.report.model_copy(update={"assignments": [bigger]})})
    with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
        gradebook.record(graded("alice"))
        gradebook.record(bob)
    (tmp_path / "roster.csv").write_text("folder,id\nalice,1\nbob,2\n")
    result = export(tmp_path, "--canvas", str(tmp_path / "canvas.csv"))
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "canvas.csv")[1] == ["Points Possible", "", "", "", "", "6", "2"]
    assert "warning: rnn_forward is worth 6 points to some students and less to others" in result.stderr
