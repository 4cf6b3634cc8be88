"""Every output format renders the same report completely and in its consumer's exact terms."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from rich.console import Console

from grader.feedback import Feedback
from grader.formats import FORMATS, render
from grader.formats.gradescope import render as gradescope
from grader.formats.text import MAX_SHOWN, print_text
from grader.results import AssignmentResult, GradingReport, TaskResult, TestResult

SHAPE = Feedback(
    kind="shape",
    function="rnn_cell",
    output="h",
    message="'h' has the wrong shape: got (3, 4), expected (3, 5)",
    got="(3, 4)",
    expected="(3, 5)",
)
VALUE = Feedback(
    kind="value",
    function="rnn_forward",
    output="hs",
    message="'hs' is wrong | check the bias",
    got="0.1",
    expected="0.6",
    worst_index=[1, 2],
    max_abs_error=0.5,
    max_rel_error=0.8,
    diagnosis="bias_twice",
)
EXCEPTION = Feedback(
    kind="error",
    message="the test failed in its setup phase: <script>alert('x')</script>",
    traceback="Traceback (most recent call last):\n\x1b[31m  ValueError: ```boom```",
)


def result(name: str, task: str, status: str, score: float, max_score: float, feedback: Feedback | None = None):
    return TestResult(
        name=name,
        assignment="rnn_forward",
        task=task,
        status=status,  # type: ignore[arg-type]
        score=score,
        max_score=max_score,
        feedback=feedback,
        duration=0.25,
    )


REPORT = GradingReport(
    submission="alice",
    isolation="subprocess",
    notes=["graded with seed 0"],
    assignments=[
        AssignmentResult(
            name="rnn_forward",
            title="The Elman RNN forward pass",
            score=2.5,
            max_score=4.0,
            notes=["rnn_forward.ipynb: cell 3: skipped print(h)"],
            student_output="\x1b[2Jdebug: h = 0.5 <b>\n",
            tasks=[
                TaskResult(
                    id="1.1",
                    title="rnn_cell | one step",
                    score=1.0,
                    max_score=2.0,
                    tests=[
                        result("test_cell.py::test_batch[1]", "1.1", "passed", 1.0, 1.0),
                        result("test_cell.py::test_batch[2]", "1.1", "failed", 0.0, 1.0, SHAPE),
                    ],
                ),
                TaskResult(
                    id="1.2",
                    title="rnn_forward",
                    score=1.5,
                    max_score=2.0,
                    tests=[
                        result("test_forward.py::test_values", "1.2", "failed", 0.0, 0.25, VALUE),
                        result("test_forward.py::test_setup", "1.2", "error", 0.0, 0.25, EXCEPTION),
                        result("test_forward.py::test_shapes", "1.2", "passed", 1.5, 1.5),
                    ],
                ),
            ],
        ),
        AssignmentResult(
            name="bptt", title="BPTT by hand", score=0.0, max_score=3.0, tasks=[], error="bptt.py is missing"
        ),
    ],
)


def test_every_format_is_registered_and_rendered():
    assert list(FORMATS) == ["text", "markdown", "html", "json", "junit", "gradescope"]
    for fmt in FORMATS:
        assert "alice" in render(REPORT, fmt)
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render(REPORT, "pdf")


def test_json_round_trips_and_adds_up():
    data = json.loads(render(REPORT, "json"))
    assert GradingReport.model_validate(data) == REPORT
    assert (data["score"], data["max_score"], data["percent"]) == (2.5, 7.0, pytest.approx(100 * 2.5 / 7))
    assert data["score"] == sum(a["score"] for a in data["assignments"])
    forward, bptt = data["assignments"]
    assert forward["percent"] == 62.5 and bptt["percent"] == 0.0
    assert forward["score"] == sum(t["score"] for task in forward["tasks"] for t in task["tests"])
    assert all(t["assignment"] == "rnn_forward" and t["task"] for task in forward["tasks"] for t in task["tests"])


def test_junit_parses_and_counts_match():
    root = ET.fromstring(render(REPORT, "junit"))
    forward, bptt = root.findall("testsuite")
    assert (forward.get("name"), forward.get("tests"), forward.get("failures"), forward.get("errors")) == (
        "rnn_forward",
        "5",
        "2",
        "1",
    )
    assert float(forward.get("time", "")) == pytest.approx(1.25)
    assert (bptt.get("tests"), bptt.get("errors")) == ("1", "1")
    assert bptt.find("testcase/error").get("message") == "bptt.py is missing"  # type: ignore[union-attr]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")
    assert forward.findtext("system-out") == "debug: h = 0.5 <b>"
    assert [p.get("value") for p in forward.iterfind("properties/property[@name='note']")] == REPORT.assignments[
        0
    ].notes

    case = forward.find("testcase[@name='test_forward.py::test_values']")
    assert case is not None and case.get("classname") == "rnn_forward.1.2"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "value" and failure.get("message") == VALUE.message
    assert failure.text == VALUE.render()
    properties = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
    assert properties == {
        "assignment": "rnn_forward",
        "task": "1.2",
        "score": "0.0",
        "max_score": "0.25",
        "diagnosis": "bias_twice",
    }
    error = forward.find("testcase[@name='test_forward.py::test_setup']/error")
    assert error is not None and error.get("type") == "error" and "ValueError" in (error.text or "")
    assert "\x1b" not in (error.text or ""), "terminal escapes are invalid XML"


GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format"}
GRADESCOPE_TOP |= {"visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format"}
GRADESCOPE_TEST |= {"tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
OUTPUT_FORMAT = {"text", "html", "simple_format", "md", "ansi"}


def test_gradescope_follows_the_autograder_specification():
    results = json.loads(render(REPORT, "gradescope"))
    assert set(results) <= GRADESCOPE_TOP
    assert results["score"] == 2.5 and results["visibility"] == "visible" and results["stdout_visibility"] == "hidden"
    assert results["output_format"] in OUTPUT_FORMAT and "2.5 / 7" in results["output"]
    assert "bptt\\.py is missing" in results["output"] and "graded with seed 0" in results["output"]
    tests = results["tests"]
    assert len(tests) == 6
    for entry in tests:
        assert set(entry) <= GRADESCOPE_TEST
        assert entry["status"] in {"passed", "failed"}
        assert entry["visibility"] in VISIBILITY and entry["output_format"] in OUTPUT_FORMAT
        keys = {"assignment", "task", "kind", "diagnosis"}
        assert keys <= set(entry["extra_data"]) <= keys | {"execution_time"}
        if entry["extra_data"]["task"] is not None:
            assert entry["tags"][:2] == [entry["extra_data"]["assignment"], entry["extra_data"]["task"]]
    assert sum(entry["score"] for entry in tests) == results["score"]
    assert sum(entry["max_score"] for entry in tests) == REPORT.max_score
    assert [entry["number"] for entry in tests] == ["1.1.1", "1.1.2", "1.2.1", "1.2.2", "1.2.3", "2"]
    values = tests[2]
    assert (values["status"], values["output"], values["tags"]) == ("failed", VALUE.render(), ["rnn_forward", "1.2"])
    assert values["extra_data"] == {
        "assignment": "rnn_forward",
        "task": "1.2",
        "kind": "value",
        "diagnosis": "bias_twice",
        "execution_time": values["extra_data"]["execution_time"],
    }
    assert tests[3]["status"] == "failed", "an error is a failure to Gradescope"
    assert (tests[5]["status"], tests[5]["output"], tests[5]["max_score"]) == ("failed", "bptt.py is missing", 3.0)


def test_gradescope_visibility_is_a_parameter():
    results = json.loads(gradescope(REPORT, visibility="after_due_date"))
    assert results["visibility"] == "after_due_date"
    assert {entry["visibility"] for entry in results["tests"]} == {"after_due_date"}


def test_markdown_escapes_pipes_in_tables_and_fences_feedback():
    markdown = render(REPORT, "markdown")
    assert "| rnn_cell \\| one step (1.1) | 1 / 2 | 1 / 2 |" in markdown
    assert "| rnn_forward (1.2) | 1.5 / 2 | 1 / 3 |" in markdown
    assert "> **Not graded:** bptt\\.py is missing" in markdown, "the error's markdown is escaped"
    assert markdown.count("<details>") == markdown.count("</details>") == 4
    assert "```text\ndebug: h = 0.5 <b>\n```" in markdown
    assert f"```text\n{VALUE.render()}\n```" in markdown
    assert "````text\n" in markdown, "a fence longer than the feedback's own backticks"
    assert "&lt;script&gt;" in markdown.split("<summary>")[3].split("</summary>")[0]


class Page(HTMLParser):
    """Records the tags and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_escapes_feedback():
    page_source = render(REPORT, "html")
    page = Page()
    page.feed(page_source)
    page.close()
    assert page.tags.count("script") == 0 and "link" not in page.tags and "style" in page.tags
    assert page.tags.count("table") == 1 and page.tags.count("details") == 4 and "b" not in page.tags
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page_source
    text = "".join(page.text)
    assert "<script>alert('x')</script>" in text and "bptt.py is missing" in text and "rnn_cell | one step" in text
    assert "debug: h = 0.5 <b>" in text
    assert "src=" not in page_source and "href=" not in page_source


def test_text_has_the_task_table_and_the_feedback():
    text = render(REPORT, "text")
    assert "Submission: alice" in text and "subprocess" in text and "2.5 / 7 (35.7%)" in text
    row = next(line for line in text.splitlines() if "rnn_forward (1.2)" in line and "/" in line)
    assert "1.5 / 2" in row and "1 / 3" in row
    assert "test_batch[2]" in text, "test names are not taken for rich markup"
    for line in VALUE.render().splitlines():
        assert line in text
    assert "Not graded: bptt.py is missing" in text and "Note: graded with seed 0" in text
    assert "What rnn_forward printed while graded" in text and "debug: h = 0.5 <b>" in text
    assert "\x1b" not in text, "no colours when not a terminal, and no terminal escapes from feedback"


def test_print_text_colours_a_terminal():
    console = Console(record=True, width=100, force_terminal=True, color_system="standard")
    print_text(REPORT, console)
    assert "\x1b[" in console.export_text(styles=True)


def test_text_shows_three_failures_per_task_and_counts_the_rest():
    def failed(i: int, kind: str, diagnosis: str | None = None) -> TestResult:
        return TestResult(
            name=f"test_cell[{i}]",
            assignment="rnn_forward",
            task="cell",
            status="failed",
            score=0,
            max_score=1,
            feedback=Feedback(kind=kind, message=f"message {i}", diagnosis=diagnosis),
        )

    tests = [failed(i, "value") for i in range(5)] + [failed(5, "value", "rnn_missing_bias"), failed(6, "shape")]
    task = TaskResult(id="cell", title="One step", score=0, max_score=7, tests=tests)
    assignment = AssignmentResult(name="rnn_forward", title="RNN", score=0, max_score=7, tasks=[task])
    text = render(GradingReport(submission="s", assignments=[assignment], isolation="bubblewrap"), "text")
    shown = [i for i in range(7) if f"message {i}\n" in text]
    assert len(shown) == MAX_SHOWN == 3
    assert shown == [0, 5, 6], "one failure of each kind and named mistake comes first"
    assert "... and 4 more failed tests in this task" in text


@pytest.mark.parametrize(
    ("kind", "mistake"), [("mutation", "generic.mutation"), ("rule", "generic.rule"), ("dtype", "generic.dtype")]
)
def test_a_generic_mistake_has_its_id_in_every_machine_readable_format(kind: str, mistake: str):
    feedback = Feedback(kind=kind, function="rnn_cell", message="rnn_cell: it went wrong")  # type: ignore[arg-type]
    assert feedback.diagnosis == mistake
    test = result("test_cell.py::test_it", "cell", "failed", 0.0, 1.0, feedback)
    task = TaskResult(id="cell", title="One step", score=0, max_score=1, tests=[test])
    assignment = AssignmentResult(name="rnn_forward", title="RNN", score=0, max_score=1, tasks=[task])
    report = GradingReport(submission="s", assignments=[assignment], isolation="bubblewrap")
    data = json.loads(render(report, "json"))
    assert data["assignments"][0]["tasks"][0]["tests"][0]["feedback"]["diagnosis"] == mistake
    assert json.loads(render(report, "gradescope"))["tests"][0]["extra_data"]["diagnosis"] == mistake
    case = ET.fromstring(render(report, "junit")).find("testsuite/testcase")
    assert case is not None and case.find("properties/property[@name='diagnosis']").get("value") == mistake  # type: ignore[union-attr]
