"""Hostile strings in every field a student controls: every output renders, encodes, and shows them literally."""

from __future__ import annotations

import csv
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console

from grader.batch.export import export_csv, export_feedback, plain_file_name
from grader.batch.outcome import Outcome
from grader.batch.summary import print_summary, write_summary
from grader.ci.comment import comment_body, error_body
from grader.ci.workflow import append, command, set_outputs
from grader.escape import fenced, inline_html, markdown_text, no_workflow_commands, safe_text, spreadsheet_text
from grader.feedback import Feedback
from grader.formats import FORMATS, markdown
from grader.formats.gradescope import GradescopeResults
from grader.formats.html import ENVIRONMENT
from grader.formats.text import print_text
from grader.results import AssignmentResult, GradingReport, TaskResult, TestResult

HOSTILE = [
    "\ud800",
    "a\udcffb\ud83d",
    "\x00nul\x07bell\x08",
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b31m",
    "\u202eevil\u2066",
    "`",
    "``` \n# Total: 60 / 60\n```",
    "````\n**Total: 60 / 60**\n````\n~~~",
    "x`\n</details>\n\n# Total: 60 / 60\n\n<details>",
    "[/bold]",
    "[bold red]loud[/] [link=http://evil.example]x[/link]",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "&lt;script&gt; &amp; &#60;b&#62;",
    "![pixel](http://evil.example/a.png)",
    "[click](http://evil.example) <http://evil.example> http://evil.example www.evil.example a@evil.example",
    "**Total: 60 / 60** _em_ ~~gone~~ $x^2$ :smile: [^1] \\",
    "\n# Total: 60 / 60\n- [x] done\n> quoted\n    indented\n| a | b |\n| --- | --- |\n***",
    "line\r\n::error::x\rcarriage",
    "=2+5",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    " =1",
    "\uff1d1+1",
    "::add-mask::secret",
    "   ::stop-commands::tok",
    "\u00a0\u2003::set-output name=x::y",
    "\u2028::add-mask::sep \u2029::add-mask::par \x85::add-mask::nel",
    "##[add-mask]secret and ##[set-output name=x;]y",
    "a " * 45 + "::add-mask::wrapped",
    "rnn_forward.py: line 3: `print(h)``` ``` `x`",
    "a" * 100_000,
    "\n".join(f"::add-mask::{i}" for i in range(200)),
]

# what ActionCommandManager registers (case-insensitive), and what .NET's String.TrimStart() trims; a
# runtime has trimmed U+200B and U+FEFF too
REGISTERED = {"add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group", "notice"}
REGISTERED |= {"remove-matcher", "save-state", "set-env", "set-output", "stop-commands", "warning"}
DOTNET_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
DOTNET_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"
FORMULA_STARTS = set("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def runner_lines(output: str) -> list[str]:
    """``output`` split into lines as the runner reads a step's output: at \\r, \\n and \\r\\n."""
    return output.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def runner_command(line: str) -> tuple[str, str] | None:
    """The (command, data) the runner would execute for ``line``, as ActionCommand.TryParseV2 then TryParse."""
    message = line.lstrip(DOTNET_WHITESPACE)
    if message.startswith("::") and (end := message.find("::", 2)) >= 0:
        name = message[2:end].split(" ")[0]
        if name.lower() in REGISTERED:
            return name, message[end + 2 :].replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
    if (start := line.find("##[")) >= 0 and (end := line.find("]", start)) >= 0:
        name = line[start + 3 : end].split(" ")[0]
        if name.lower() in REGISTERED:
            return name, line[end + 1 :]
    return None


def commands(output: str) -> list[tuple[str, str]]:
    """Every workflow command the runner would execute if ``output`` were printed in a step."""
    return [found for line in runner_lines(output) if (found := runner_command(line))]


def report_with(text: str, output: str | None = None) -> GradingReport:
    """A report holding ``text`` in every field the student controls; ``output`` what they printed, else ``text``.
    Built without validation, so that the formats get ``text`` as it is, whatever the models would make of it."""

    def test(name: str, status: str, kind: str | None) -> TestResult:
        feedback = None
        if kind:
            feedback = Feedback.model_construct(
                kind=kind,  # type: ignore[arg-type]
                message=text,
                traceback=text,
                got=text,
                expected=text,
                inputs=text,
                worst_index=[0, 1],
                explanation=text,
                diagnosis="bias_twice",
            )
        return TestResult.model_construct(
            name=name,
            assignment="rnn_forward",
            task="1.1",
            status=status,  # type: ignore[arg-type]
            score=1.0 if status == "passed" else 0.0,
            max_score=1.0,
            feedback=feedback,
        )

    task = TaskResult.model_construct(
        id="1.1",
        title="One step",
        score=1.0,
        max_score=4.0,
        tests=[
            test("test_cell.py::test_batch[1]", "passed", None),
            test("test_cell.py::test_batch[2]", "failed", "timeout"),
            test("test_cell.py::test_batch[3]", "error", "exception"),
            test("test_cell.py::test_batch[4]", "failed", None),
        ],
    )
    forward = AssignmentResult.model_construct(
        name="rnn_forward",
        title="The Elman RNN forward pass",
        score=1.0,
        max_score=4.0,
        tasks=[task],
        notes=[text, text],
        error=text,
        student_output=text if output is None else output,
    )
    bptt = AssignmentResult.model_construct(name="bptt", title="BPTT", score=0.0, max_score=2.0, tasks=[], error=text)
    return GradingReport.model_construct(
        submission=text, assignments=[forward, bptt], isolation="bubblewrap", tests="hidden", notes=[text]
    )


def benign_report(text: str) -> GradingReport:
    """The report of :func:`report_with` for a harmless string, printing something exactly when ``text`` does."""
    return report_with("benign", "benign" if safe_text(text).strip() else "")


def outcomes_with(text: str, student: str | None = None) -> list[Outcome]:
    """A graded outcome and an errored one holding ``text`` in every field the student controls (unvalidated)."""
    common = {"student": text if student is None else student, "source": "/class/x", "content_hash": "h"}
    return [
        Outcome.model_construct(**common, status="graded", report=report_with(text)),
        Outcome.model_construct(**common, status="error", reason=text),
    ]


MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def tokens(source: str) -> Iterator[Token]:
    """Every block and inline token of ``source``, in order."""
    for token in MARKDOWN.parse(source):
        yield token
        yield from token.children or []


def structure(source: str) -> list[str]:
    """The kinds of markdown element ``source`` is made of, whatever their text."""
    kinds = [f"{t.type}:{t.tag}" for t in tokens(source)]
    return [kind for i, kind in enumerate(kinds) if kind != "text:" or kinds[i - 1] != "text:"]


def assert_literal_markdown(hostile: str, benign: str) -> None:
    """``hostile`` markdown has the elements of ``benign``, and no link GitHub would add to bare text."""
    assert structure(hostile) == structure(benign)
    inline = [t.content for t in tokens(hostile) if t.type == "inline"]
    assert not any(re.search(r"(?<!\\)://|www\.|:smile:", text) for text in inline)


class Tags(HTMLParser):
    """The start tags of a page, with their attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [(name, None if name == "src" else value) for name, value in attrs]))


def assert_literal_html(hostile: str, benign: str) -> None:
    assert Tags(hostile).tags == Tags(benign).tags
    assert "<script" not in hostile.lower()


def assert_printable(output: str) -> None:
    """``output`` encodes as UTF-8, and printed in a CI log it runs no workflow command."""
    output.encode("utf-8")
    assert commands(output) == []


@pytest.mark.parametrize("text", HOSTILE)
def test_every_format_renders_hostile_text_literally(text: str) -> None:
    report, benign = report_with(text), benign_report(text)
    outputs = {fmt: formatter(report) for fmt, formatter in FORMATS.items()}
    for output in outputs.values():
        output.encode("utf-8")
    assert_printable(outputs["text"])
    assert_literal_markdown(outputs["markdown"], markdown.render(benign))
    assert_literal_html(outputs["html"], FORMATS["html"](benign))
    GradingReport.model_validate_json(outputs["json"])
    ET.fromstring(outputs["junit"])
    results = GradescopeResults.model_validate_json(outputs["gradescope"])
    assert_literal_markdown(results.output, GradescopeResults.model_validate_json(FORMATS["gradescope"](benign)).output)


@pytest.mark.parametrize("text", HOSTILE)
def test_the_terminal_report_runs_no_workflow_command(text: str) -> None:
    for width in (40, 80, 100):
        console = Console(file=StringIO(), width=width, color_system=None, highlight=False)
        print_text(report_with(text), console)
        assert_printable(console.file.getvalue())  # type: ignore[attr-defined]
    coloured = Console(file=StringIO(), width=80, force_terminal=True, color_system="truecolor")
    print_text(report_with(text), coloured)
    assert "\x1b[" in coloured.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_pull_request_comment_and_the_error_comment(text: str) -> None:
    comment = comment_body(report_with(text))
    comment.encode("utf-8")
    assert not {t.type for t in tokens(comment)} & {"image", "link_open"}
    assert_literal_markdown(error_body(text), error_body("benign"))
    assert_literal_markdown(markdown.not_graded(text), markdown.not_graded("benign"))


def test_the_class_summary_shows_hostile_students_literally(tmp_path: Path) -> None:
    hostile = [outcome for text in HOSTILE for outcome in outcomes_with(text)]
    benign = [outcome for text in HOSTILE for outcome in outcomes_with("benign")]
    for width in (80, 120):
        console = Console(file=StringIO(), width=width, color_system=None)
        print_summary(hostile, console)
        assert_printable(console.file.getvalue())  # type: ignore[attr-defined]
    write_summary(hostile, tmp_path / "hostile.html")
    write_summary(benign, tmp_path / "benign.html")
    assert_literal_html(
        *(path.read_text(encoding="utf-8") for path in (tmp_path / "hostile.html", tmp_path / "benign.html"))
    )


def test_csv_cells_are_never_formulas(tmp_path: Path) -> None:
    outcomes = [outcome for text in HOSTILE for outcome in outcomes_with(text)]
    export_csv(outcomes, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(outcomes)
    for row, outcome in zip(rows, outcomes, strict=True):
        for column in ("student", "status", "reason"):
            assert row[column].lstrip()[:1] not in FORMULA_STARTS, row[column]
        assert (row["total"], row["percent"]) == (("1", "16.67") if outcome.report else ("", ""))
    shown = {text: rows[2 * i]["student"] for i, text in enumerate(HOSTILE)}
    assert [shown[t] for t in ("=2+5", "+1", "@SUM(A1)", "\t=1", "\uff1d1+1")] == [
        "'=2+5",
        "'+1",
        "'@SUM(A1)",
        "'\t=1",
        "'\uff1d1+1",
    ]
    assert shown["[/bold]"] == "[/bold]" and shown["\ud800"] == "\ufffd"


def test_spreadsheet_text_leaves_plain_text_and_numbers_alone() -> None:
    assert [spreadsheet_text(t) for t in ("alice", "", "1.5", "a=b", "e-mail")] == ["alice", "", "1.5", "a=b", "e-mail"]
    assert [spreadsheet_text(t) for t in ("-1", " =1", "\uff20x")] == ["'-1", "' =1", "'\uff20x"]


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_feedback_files_of_hostile_students(tmp_path: Path, fmt: str) -> None:
    students = [text if plain_file_name(text) else f"student{i}" for i, text in enumerate(HOSTILE)]
    assert {"=2+5", "@SUM(A1)", "<img src=x onerror=alert(1)>"} <= set(students)
    outcomes = [
        outcomes_with(text, student)[i % 2] for i, (text, student) in enumerate(zip(HOSTILE, students, strict=True))
    ]
    written = export_feedback(outcomes, tmp_path, fmt)  # type: ignore[arg-type]
    assert sorted(written) == sorted(tmp_path.iterdir()) and len(written) == len(HOSTILE)
    for path in written:
        page = path.read_text(encoding="utf-8")
        assert fmt == "markdown" or "<script" not in page.lower()


@pytest.mark.parametrize(
    "student", ["\ud800", "a\udcffb", "a\nb", "a\tb", "a\x1bb", "\u202eevil", "a" * 253, "x/y", ".."]
)
def test_a_student_id_that_cannot_name_a_file_as_it_is_is_refused(tmp_path: Path, student: str) -> None:
    with pytest.raises(ValueError, match="is not a file name"):
        export_feedback(outcomes_with("benign", student), tmp_path / "feedback")
    assert not (tmp_path / "feedback").exists()


@pytest.mark.parametrize("text", HOSTILE)
def test_workflow_commands_carry_hostile_text_as_data(text: str, tmp_path: Path) -> None:
    line = command("error", text, file=text, title=text)
    assert runner_lines(line) == [line]
    assert commands(line) == [("error", safe_text(text))]
    append(tmp_path / "summary.md", text)
    append(tmp_path / "summary.md", markdown.not_graded(text))
    assert safe_text(text) in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_step_outputs_stay_one_line_each(tmp_path: Path) -> None:
    set_outputs(tmp_path / "output", {"score": "1\ud800", "percent": "50\r.0"})
    assert (tmp_path / "output").read_text(encoding="utf-8") == "score=1\ufffd\npercent=50.0\n"
    for value in ("1\n2", "1\r\n2", "1\u20282", "1\x852"):
        with pytest.raises(ValueError, match="must be one line"):
            set_outputs(tmp_path / "output", {"score": value})


def test_safe_text() -> None:
    assert safe_text("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert safe_text("\ud83d\ude00") == "😀", "a surrogate pair is the character it encodes"
    assert safe_text("\x1b[1;31mred\x1b[0m\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1bM") == "redlink"
    assert safe_text("\x00a\x7fb\x9bc\u202ed\u2066e") == "abcde"
    assert safe_text("a\r\nb\u2028c\u2029d\x85e\tf") == "a\nb\nc\nd\ne\tf"
    assert safe_text("plain 😀 ünïcode\n") == "plain 😀 ünïcode\n"
    for text in HOSTILE:
        assert safe_text(safe_text(text)) == safe_text(text)
        assert all(len(line.splitlines()) <= 1 for line in safe_text(text).split("\n")), "\\n breaks every line"


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_renders_literally(text: str) -> None:
    rendered = MARKDOWN.renderInline(markdown_text(text))
    assert "<" not in rendered, "no element, only text"
    assert html.unescape(rendered) == safe_text(text).replace("\n", " ")


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_first_on_a_line_is_a_paragraph_of_text(text: str) -> None:
    blocks = MARKDOWN.parse(f"{markdown_text(text)}\n\n{markdown_text(text)}")
    assert {t.type for t in blocks} <= {"paragraph_open", "inline", "paragraph_close", "code_block"}
    assert all(c.type == "text" for t in blocks for c in t.children or [])


@pytest.mark.parametrize("text", HOSTILE)
def test_fenced_text_is_one_code_block(text: str) -> None:
    (block,) = MARKDOWN.parse(fenced(text))
    assert block.type == "fence" and block.content == safe_text(text) + "\n"


def test_inline_html_is_text_on_one_line() -> None:
    assert inline_html("<b>&\n'x'\ud800") == "&lt;b&gt;&amp; &#x27;x&#x27;\ufffd"


def test_no_workflow_commands() -> None:
    assert no_workflow_commands("::add-mask::x\n  ::error::y\n\u00a0::warning::z") == (
        "\\::add-mask::x\n  \\::error::y\n\u00a0\\::warning::z"
    )
    assert no_workflow_commands("a ##[add-mask]x\r::debug::y") == "a ##\\[add-mask]x\r\\::debug::y"
    assert no_workflow_commands("a::b\n std::vector") == "a::b\n std::vector"
    for text in HOSTILE:
        assert commands(no_workflow_commands(text)) == []


def test_templates_mark_nothing_safe() -> None:
    for name in ("report.html.j2", "summary.html.j2"):
        source, _, _ = ENVIRONMENT.loader.get_source(ENVIRONMENT, name)  # type: ignore[union-attr]
        assert "safe" not in source.replace("safe_", "") and "autoescape" not in source and "Markup" not in source
