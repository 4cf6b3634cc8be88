"""The instructor's summary: its numbers, its self-contained page, and that page as a browser draws it."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from matplotlib.colors import to_rgb
from PIL import Image
from rich.console import Console

# the class of test_gradebook: alice 100%, bob 33% with three mistakes (one twice), carol 83% with a timeout,
# dave's archive unreadable, erin 83% with one mistake (pytest puts tests/ on sys.path)
from test_gradebook import CLASS, errored, graded, wrong

from grader.batch.summary import (
    MISTAKE_COLOUR,
    SCORE_COLOUR,
    TOP_MISTAKES,
    Bucket,
    ClassSummary,
    TaskRate,
    Unfinished,
    print_summary,
    write_summary,
)

PNG = b"\x89PNG\r\n\x1a\n"


def rgb(colour: str) -> tuple[int, ...]:
    return tuple(round(255 * channel) for channel in to_rgb(colour))


class Page(HTMLParser):
    """The images and table rows of an HTML page, and every address it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.images: dict[str, str] = {}
        self.addresses: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.table: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.addresses += [value or "" for name, value in attrs if name in {"src", "href"}]
        if tag == "img":
            self.images[attributes["id"] or ""] = attributes["src"] or ""
        elif tag == "table":
            self.table = attributes["id"]
            self.tables[self.table or ""] = []
        elif tag == "tr" and self.table:
            self.tables[self.table].append([])
        elif tag in {"td", "th"}:
            self.cell = []

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self.cell is not None and self.table:
            self.tables[self.table][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "table":
            self.table = None


def test_the_summary_counts_the_class() -> None:
    summary = ClassSummary.of(CLASS)
    assert (summary.students, summary.graded, summary.errored, summary.incomplete, summary.timed_out) == (5, 4, 1, 0, 1)
    assert {u.status for u in summary.unfinished} <= {"graded", "incomplete", "error"}, "the gradebook's statuses"
    assert summary.mean == pytest.approx((100 + 100 / 3 + 250 / 3 + 250 / 3) / 4)
    assert summary.median == pytest.approx(250 / 3)
    assert [b for b in summary.distribution if b.students] == [
        Bucket(low=30, students=1),
        Bucket(low=80, students=2),
        Bucket(low=90, students=1),  # 100% is in the last bucket
    ]
    assert summary.tasks == [
        TaskRate(assignment="rnn_forward", task="1.1", title="task 1.1", full=1, students=4),
        TaskRate(assignment="rnn_forward", task="1.2", title="task 1.2", full=3, students=4),
        TaskRate(assignment="gated_cells", task="2.1", title="task 2.1", full=3, students=4),
    ]
    # bob's rnn_missing_bias fails two tests but counts once
    assert [(m.diagnosis, m.assignment, m.students) for m in summary.mistakes] == [
        ("rnn_missing_bias", "rnn_forward", 2),
        ("gru_update_flipped", "gated_cells", 1),
    ]
    assert summary.mistakes[0].explanation == "you made rnn_missing_bias"
    assert summary.unfinished == [
        Unfinished(
            student="carol", status="graded", reason="timed out: rnn_forward: rnn_cell did not finish within 2 s"
        ),
        Unfinished(student="dave", status="error", reason="dave.zip is not a zip archive: re-upload it"),
    ]


def test_only_the_most_frequent_mistakes_are_kept_most_frequent_first() -> None:
    many = [f"mistake_{i:02d}" for i in range(TOP_MISTAKES + 3)]
    tests = ["test_cell.py::test_batch[1]", "test_cell.py::test_batch[2]", "test_forward.py::test_sequence"]
    # student k makes mistakes k, k + 1 and k + 2; ties are broken by id
    outcomes = [graded(f"s{k}", {t: wrong(many[k + i]) for i, t in enumerate(tests)}) for k in range(3)]
    assert [(m.diagnosis, m.students) for m in ClassSummary.of(outcomes).mistakes] == [
        ("mistake_02", 3),
        ("mistake_01", 2),
        ("mistake_03", 2),
        ("mistake_00", 1),
        ("mistake_04", 1),
    ]
    widespread = [graded(f"t{k}", {tests[0]: wrong(many[k])}) for k in range(len(many))]
    ranked = ClassSummary.of([*widespread, graded("u", {tests[0]: wrong(many[-1])})]).mistakes
    assert len(ranked) == TOP_MISTAKES
    assert ranked[0].diagnosis == many[-1] and [m.diagnosis for m in ranked[1:]] == many[: TOP_MISTAKES - 1]


def test_a_class_with_no_graded_submission() -> None:
    summary = ClassSummary.of([errored("zed", "empty folder")])
    assert (summary.students, summary.graded, summary.mean, summary.median) == (1, 0, None, None)
    assert summary.tasks == summary.mistakes == [] and sum(b.students for b in summary.distribution) == 0


def test_the_page_is_self_contained_with_plots_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "summary.html"
    write_summary(CLASS, path)
    page = Page()
    page.feed(path.read_text())
    assert set(page.images) == {"distribution", "tasks", "mistakes"}
    for source in page.images.values():
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.removeprefix("data:image/png;base64,")).startswith(PNG)
    assert all(address.startswith("data:") for address in page.addresses), "the page loads nothing from outside"
    assert page.tables["unfinished-table"] == [
        ["Student", "Status", "Reason"],
        ["carol", "graded", "timed out: rnn_forward: rnn_cell did not finish within 2 s"],
        ["dave", "error", "dave.zip is not a zip archive: re-upload it"],
    ]
    assert page.tables["mistake-table"][1] == ["rnn_missing_bias", "rnn_forward", "2", "you made rnn_missing_bias"]
    text = path.read_text()
    assert all(
        f"<strong>{n}</strong><span>{what}</span>" in text for n, what in [(5, "students"), ("75.0%", "mean score")]
    )


def test_the_page_of_a_class_without_mistakes_or_tasks_says_so(tmp_path: Path) -> None:
    path = tmp_path / "summary.html"
    write_summary([errored("zed", "empty folder")], path)
    page = Page()
    page.feed(path.read_text())
    assert set(page.images) == {"distribution"}
    assert (
        "No task was graded." in path.read_text() and "No failed test matched a catalogued mistake." in path.read_text()
    )


def test_the_terminal_summary_shows_the_same_figures() -> None:
    buffer = StringIO()
    print_summary(CLASS, Console(file=buffer, width=120, color_system=None))
    lines = buffer.getvalue().splitlines()
    row = next(line for line in lines if "75.0%" in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == ["5", "4", "1", "0", "1", "75.0%", "83.3%"]
    assert any("80–90%" in line and "│        2 │" in line for line in lines)
    assert any("rnn_forward" in line and "1 / 4" in line and "25%" in line for line in lines)
    assert any("rnn_missing_bias" in line and "│        2 │" in line for line in lines)
    assert any("dave" in line and "error" in line and "dave.zip is not a zip archive" in line for line in lines)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_draws_the_plots(tmp_path: Path) -> None:
    page, screenshot = tmp_path / "summary.html", tmp_path / "summary.png"
    write_summary(CLASS, page)
    command = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={screenshot}",
        "--window-size=1200,1600",
        page.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=60, check=True)
    assert screenshot.stat().st_size > 20_000
    with Image.open(screenshot) as image:
        assert image.size == (1200, 1600)
        colours = {colour: count for count, colour in image.convert("RGB").getcolors(1 << 20) or []}
    assert len(colours) > 100, "the screenshot is not one flat colour"
    # each plot's bars, in the colours summary.py draws them with
    for colour in (SCORE_COLOUR, "C0", "C1", MISTAKE_COLOUR):
        assert colours.get(rgb(colour), 0) > 5_000, f"no bars of colour {colour} in the screenshot"
