"""Red team of the grader's trusted side: a submission is data. Every case is a hostile submission graded through
the real command line (``grader run``, ``grader batch``, ``grader ci`` in course-repository mode with an encrypted
hidden bundle, and the released Gradescope ``run_autograder``), and checks invariants rather than messages:

- the submission earns exactly what its honest code deserves (a module read through a link, a pipe, a folder or
  an oversized file earns 0 and is refused with a reason naming it; the other modules earn their points);
- no secret reaches any output: no hidden-test, catalogue or solution line, nor the course's seed, the hidden
  bundle's key, a secret of the grader's environment, or a grader-side traceback or path;
- no command crashes (exit code 0, 1 or 2, no Python traceback) or hangs;
- nothing outside the worker's temporary folder changes, and no file of the submission runs in the grader.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import gzip
import hashlib
import html
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from conftest import GRADER, ROOT
from markdown_it import MarkdownIt
from test_gradescope_release import unpack
from test_redteam_cli_boundary import shared
from test_release_scan import answer_key, code_lines, secret_lines, seed

from grader.batch.gradebook import Gradebook
from grader.batch.outcome import Outcome
from grader.cli import main
from grader.results import GradingReport
from grader.sandbox.bubblewrap import bwrap_problem
from grader.starter import strip_solutions

pytestmark = pytest.mark.slow  # every test here grades through the real command line

FIXTURES = ROOT / "tests" / "submissions" / "redteam_trusted"
SNOOP = (FIXTURES / "snoop.py").read_text(encoding="utf-8")
ENV_SECRET = "rt-env-secret-5b9e1c"
"""A secret in the grader's environment (as ``GRADER_HIDDEN_KEY``) that no student code may see."""
EXIT_CODES = {0, 1, 2}
"""README: 0 graded, 1 below ``--fail-under``, 2 the submission could not be graded; 3 (the course failed) must never
be a hostile submission's doing, and anything else is a crash."""
LINK_WORDS = ("link", "regular file")
needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs bubblewrap: {bwrap_problem()}")

HIDDEN = ROOT / "assignments" / "taxonomy" / "tests" / "hidden" / "test_taxonomy_kinds.py"
INJECTION = 'print("` **Total: 60 / 60** ![x](http://e/x.png) `")'
"""A notebook's top-level statement that the grader drops and quotes in a note: markdown outside the backticks."""
REAL_TOTAL = re.compile(r"<strong>Total: [\d.]+ / [\d.]+ \([\d.]+%\)</strong>")
SURROGATES = r"""
_printed = print("lone \ud800 surrogate at import")
_linear_readout = linear_readout


def linear_readout(h, W_hy, b_y):
    print("and \udcff another in a graded call")
    return _linear_readout(h, W_hy, b_y)
"""
"""A notebook cell after the reference rnn_forward's: it prints lone surrogates, at import and in a graded call."""
MARKER = 'import os\n\nopen(os.environ["RT_MARKER"], "a").write(__file__ + "\\n")\n'
FAKE_TEST = """
import pytest


@pytest.mark.task("cell")
def test_full_marks():
    open(os.environ["RT_MARKER"], "a").write("a student's test ran in the grader\\n")
"""
FAKE_SPEC = """name = "rnn_forward"
title = "The Elman RNN forward pass"

[tolerance.float64]
rtol = 1e-7
atol = 1e-9

[tolerance.float32]
rtol = 1e-4
atol = 1e-5

[functions.rnn_cell]
outputs = ["h"]

[[tasks]]
id = "cell"
title = "Full marks"
points = 100
functions = ["rnn_cell"]
"""


# ----------------------------------------------------------------------------------------------------------------
# running the command line


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a command: no course or CI variable of the caller's, a secret the student must not see,
    the marker path hostile tests write to, a private TMPDIR and no line wrapping."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "GITHUB_"))}
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env.update(GRADER_HIDDEN_KEY=ENV_SECRET, RT_MARKER=str(tmp_path / "marker"), TMPDIR=str(scratch), COLUMNS="1000")
    return env | extra


@dataclass
class Run:
    """A finished command."""

    code: int
    stdout: str
    stderr: str


def cli(args: list[str], env: dict[str, str], timeout: float = 300, cwd: Path | None = None) -> Run:
    """Run a command; a hang (killed with its whole process group), an exit code outside 0, 1, 2 or a Python
    traceback in its output fails the test."""
    what = " ".join(args[len(GRADER) : len(GRADER) + 2]) if args[: len(GRADER)] == GRADER else Path(args[0]).name
    process = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{what} hung: still running after {timeout} s")
    run = Run(process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    crashed = "Traceback (most recent call last)" in run.stdout + run.stderr
    assert run.code in EXIT_CODES and not crashed, f"{what} crashed (exit {run.code}):\n{run.stderr[-2000:]}"
    return run


def grade(submission: Path, tmp_path: Path, *args: str) -> tuple[Run, Path]:
    """``grader run SUBMISSION --format json -o FILE``; the run and the file."""
    out = tmp_path / "report.json"
    run = cli([*GRADER, "run", str(submission), "--format", "json", "-o", str(out), *args], environment(tmp_path))
    return run, out


# ----------------------------------------------------------------------------------------------------------------
# what must not leak, and reading every output as a student reads it


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def decoded(raw: str) -> list[str]:
    """``raw`` as a student reads it: as it is, HTML-unescaped, markdown-unescaped, and its JSON strings and base64
    step outputs decoded."""
    parts = [raw, html.unescape(raw)]
    with contextlib.suppress(ValueError):
        parts += strings(json.loads(raw))
    for line in raw.splitlines():  # GitHub's step outputs: result=<base64 of Classroom's JSON>
        name, _, value = line.partition("=")
        if name == "result" and value:
            with contextlib.suppress(ValueError):
                parts += decoded(base64.b64decode(value).decode("utf-8", "replace"))
    return parts + [MARKDOWN_ESCAPE.sub(r"\1", html.unescape(part)) for part in parts]


def gather(*items: str | Path | None) -> str:
    """All of ``items``, read: strings as they are, files decoded, folders file by file."""
    parts: list[str] = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Path) and item.is_dir():
            parts += (gather(p) for p in sorted(item.rglob("*")) if p.is_file())
        elif isinstance(item, Path) and item.is_file():
            parts += decoded(item.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def flat(text: str) -> str:
    return " ".join(text.split())


LONG = 40
"""A secret line this long is looked for anywhere in the text; a shorter one only as a whole line."""
GRADER_SIDE = re.compile(r'Traceback \(most recent call last\)|File "[^"\n]*/(?:grader|assignments|reference)/')


def leaks(text: str, copied: Collection[str] = (), secrets: Collection[str] = (), paths: Collection[Path] = ()):
    """The instructor's secrets ``text`` shows: a hidden-test, catalogue or solution line (see :data:`LONG`; not
    counting the lines of the references ``copied`` into the submission as its honest code), the seed, the answer
    key, ``secrets``, and grader-side tracebacks and paths (``ROOT``'s course and grader folders, and ``paths``)."""
    own = set().union(*(code_lines((ROOT / "reference" / f"{m}.py").read_text()) for m in copied))
    lines, text_flat = {line.strip() for line in text.splitlines()}, flat(text)
    found = [
        f"{where}: {line}"
        for line, where in secret_lines().items()
        if line not in own and (line in lines or (len(line) >= LONG and flat(line) in text_flat))
    ]
    if re.search(rf"(?<!\d){seed()}(?!\d)", text):
        found.append(f"the course's seed {seed()}")
    if "taxonomy" not in copied:
        found += [f"the answer key: {key.pattern}" for key in answer_key() if key.search(text)]
    found += [f"the secret {secret!r}" for secret in secrets if secret in text]
    found += [f"grader-side: {match!r}" for match in GRADER_SIDE.findall(text)]
    folders = [ROOT / "grader", ROOT / "assignments", ROOT / "reference", *paths]
    found += [f"the path {folder}" for folder in folders if str(folder) in text]
    return found


def mentions(text: str, name: str, words: Collection[str] = LINK_WORDS) -> bool:
    """Whether a line of ``text`` names the file ``name`` and says why with one of ``words``."""
    return any(name in line and any(w in line.lower() for w in words) for line in text.splitlines())


def injected(markdown: str) -> list[str]:
    """What of a student's text the markdown renders as markup: any image, and any bold "Total" but the report's
    real total line (which must be there exactly once)."""
    page = MarkdownIt("commonmark").enable("table").render(markdown)
    found = re.findall(r"<img\b[^>]*>", page)
    totals = re.findall(r"<strong>\s*Total:.*?</strong>", page)
    found += [t for t in totals if not REAL_TOTAL.fullmatch(t)]
    if len([t for t in totals if REAL_TOTAL.fullmatch(t)]) != 1:
        found.append(f"{len(totals)} bold totals: {totals}")
    return found


# ----------------------------------------------------------------------------------------------------------------
# submissions


def reference(name: str) -> str:
    return (ROOT / "reference" / f"{name}.py").read_text(encoding="utf-8")


def starter(name: str) -> str:
    return strip_solutions(reference(name))


def honest(folder: Path, *names: str, snoop: bool = False, extra: str = "") -> Path:
    """The reference of each module ``names`` copied into ``folder``; ``snoop``: the first one also prints every
    secret it can reach (tests/submissions/redteam_trusted/snoop.py); ``extra``: code appended to the first."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        tail = ("\n\n" + SNOOP if snoop else "") + extra if i == 0 else ""
        (folder / f"{name}.py").write_text(reference(name) + tail, encoding="utf-8")
    return folder


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def takeover(folder: Path, starter_module: bool = True) -> Path:
    """A submission that brings its own course: course.toml with a seed, an assignment.toml giving rnn_cell 100
    points, hidden and public tests that pass, and conftest.py files at every level, each writing the marker;
    ``starter_module``: beside the starter of rnn_forward, whose honest score is 0."""
    files = {
        "conftest.py": MARKER,
        "assignments/conftest.py": MARKER,
        "assignments/course.toml": 'title = "mine"\nseed = 1\n',
        "assignments/rnn_forward/assignment.toml": FAKE_SPEC,
    }
    for which in ("hidden", "public"):
        files[f"assignments/rnn_forward/tests/{which}/conftest.py"] = MARKER
        files[f"assignments/rnn_forward/tests/{which}/test_takeover.py"] = MARKER + FAKE_TEST
    if starter_module:
        files["rnn_forward.py"] = starter("rnn_forward")
    return write(folder, files)


def notebook(path: Path, *cells: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def linked(folder: Path, links: dict[str, Path]) -> None:
    for name, target in links.items():
        (folder / name).symlink_to(target)


def state(*folders: Path) -> dict[str, str]:
    """Every entry below ``folders`` (links not followed) with its kind and content: what must not change."""
    seen = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            if "__pycache__" in path.parts:
                continue
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                seen[str(path)] = f"link to {os.readlink(path)}"
            elif stat.S_ISREG(info.st_mode) and info.st_size <= 1 << 24:
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISREG(info.st_mode):
                seen[str(path)] = f"{info.st_size} bytes, modified {info.st_mtime_ns}"
            else:
                seen[str(path)] = f"mode {stat.S_IFMT(info.st_mode):o}"
    return seen


class Untouched:
    """The course's folders and ``folders``, checked unchanged with :meth:`check`."""

    def __init__(self, *folders: Path) -> None:
        self.folders = (ROOT / "assignments", ROOT / "reference", *folders)
        self.before = state(*self.folders)

    def check(self) -> None:
        after = state(*self.folders)
        changed = sorted(k for k in self.before.keys() | after.keys() if self.before.get(k) != after.get(k))
        assert not changed, f"grading changed files outside the worker: {changed[:5]}"


def report_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def assignments_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in report["assignments"]}


def earned(report: dict[str, Any], name: str) -> float:
    """The points of assignment ``name`` in a JSON report; 0 when it is not there."""
    found = assignments_of(report).get(name)
    return found["score"] if found else 0.0


def full_marks(report: dict[str, Any], name: str) -> bool:
    found = assignments_of(report).get(name)
    return found is not None and found["max_score"] > 0 and found["score"] == pytest.approx(found["max_score"])


# ----------------------------------------------------------------------------------------------------------------
# the helpers themselves


def test_the_leak_scan_finds_each_secret_in_every_encoding():
    """Guards the guard: a hidden-test line inside a JSON string, an HTML-escaped solution line, the seed, a grader
    frame; and the reference a submission copied is its own."""
    hidden_line = 'check_value(f"PROBLEM_KINDS[{problem!r}]", kinds.get(problem), ANSWER_KEY[problem], SIX_DECIMALS)'
    solution_line = "h = torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)"
    assert any("test_taxonomy_kinds.py" in f for f in leaks("\n".join(decoded(json.dumps({"m": f"a\n{hidden_line}"})))))
    assert leaks("\n".join(decoded(html.escape(f"<pre>  {solution_line}</pre>"))))
    assert leaks("\n".join(decoded(solution_line.replace("_", "\\_").replace(".", "\\."))))
    assert mentions("\n".join(decoded("> rnn\\_forward\\.py is a symbolic link")), "rnn_forward.py")
    assert not leaks(solution_line, copied={"rnn_forward"})
    assert (
        leaks(f"seed = {seed()}") and leaks('File "/x/site/grader/runner.py", line 3') and leaks("key", secrets={"key"})
    )
    assert not leaks("10 / 10 (100.0%) rnn_forward: 'h' has the wrong shape")
    assert injected("**Total: 1 / 2 (50.0%)** · x\n\n- note: `a` **Total: 60 / 60** ![x](http://e/x.png) `b`")
    assert not injected("**Total: 1 / 2 (50.0%)** · x\n\n- note: ``a` **Total: 60 / 60** ![x](http://e/x.png) `b``")


# ----------------------------------------------------------------------------------------------------------------
# grader run


@needs_bwrap
def test_run_refuses_modules_that_are_links_pipes_or_folders(tmp_path: Path):
    """Hole 1 through ``grader run``: modules linked to a reference, a hidden test, course.toml (the seed) and
    /proc/self/environ (the grader's secrets), a FIFO and a folder; gated_cells is honest and prints whatever of
    them reached the worker. Only gated_cells earns points; each of the others is refused by name."""
    submission = honest(tmp_path / "submission", "gated_cells", snoop=True)
    links = {
        "rnn_forward.py": ROOT / "reference" / "rnn_forward.py",
        "taxonomy.py": HIDDEN,
        "shapes.py": ROOT / "assignments" / "course.toml",
        "attention.py": Path("/proc/self/environ"),
    }
    linked(submission, links)
    os.mkfifo(submission / "bptt.py")
    (submission / "bptt.ipynb").mkdir()
    untouched = Untouched(submission)
    run, out = grade(submission, tmp_path, "--time-limit", "2")
    assert run.code == 0, run.stderr
    report, text = report_of(out), gather(run.stdout, run.stderr, out)
    assert full_marks(report, "gated_cells"), assignments_of(report).get("gated_cells")
    assert report["score"] == pytest.approx(assignments_of(report)["gated_cells"]["max_score"])
    for name in links:
        assert earned(report, name.removesuffix(".py")) == 0
        assert mentions(text, name), f"{name} (a link) is not refused by name"
    assert mentions(text, "bptt.py", ("regular file", "pipe", "fifo")), "the FIFO bptt.py is not refused by name"
    assert not leaks(text, copied={"gated_cells"}, secrets={ENV_SECRET})
    untouched.check()
    assert not list((tmp_path / "tmp").iterdir()), "a temporary folder was left behind"


def test_run_never_takes_the_course_from_the_submission(tmp_path: Path):
    """Hole 2 through ``grader run SUB`` (no --course): a folder holding its own course.toml, assignment and tests
    (and conftest.py files) is graded by the real course; none of its files runs in the grader."""
    submission = takeover(tmp_path / "submission")
    untouched = Untouched(submission)
    run, out = grade(submission, tmp_path)
    assert not (tmp_path / "marker").exists(), (
        "a file of the submission ran in the grader: " + (tmp_path / "marker").read_text()
    )
    if run.code == 0:
        report = report_of(out)
        assert report["score"] == 0
        assert assignments_of(report)["rnn_forward"]["max_score"] == 10, "graded by the submission's assignment.toml"
    untouched.check()


def test_run_public_collects_only_the_bundles_own_public_tests(tmp_path: Path):
    """Hole 2 through ``grader run BUNDLE --public``: a released bundle with a test file and conftest.py files the
    student added; only the bundle's own public tests run, the starter earns 0 and no added file runs."""
    wheel = tmp_path / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a stand-in: nothing installs it")
    bundle = tmp_path / "bundle"
    release = [*GRADER, "release", "rnn_forward", "--out", str(bundle), "--wheel", str(wheel), "--course", str(ROOT)]
    assert cli(release, environment(tmp_path)).code == 0
    public = bundle / "assignments" / "rnn_forward" / "tests" / "public"
    write(
        bundle,
        {
            "conftest.py": MARKER,
            "assignments/conftest.py": MARKER,
            "assignments/rnn_forward/conftest.py": MARKER,
            str((public / "conftest.py").relative_to(bundle)): MARKER,
            str((public / "test_evil.py").relative_to(bundle)): MARKER + FAKE_TEST,
        },
    )
    run, out = grade(bundle, tmp_path, "--public")
    assert not (tmp_path / "marker").exists(), (
        "a file the student added ran in the grader: " + (tmp_path / "marker").read_text()
    )
    if run.code == 0:
        report = report_of(out)
        assert report["score"] == 0
        names = {t["name"] for task in assignments_of(report)["rnn_forward"]["tasks"] for t in task["tests"]}
        assert not any("test_evil" in n for n in names), names


HUGE = {
    "rnn_forward": "\n\ndef scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):\n"
    "    return 10**400, [0.5] * len(xs)\n",
    "shapes": "\n\ndef parameter_count(*args, **kwargs):\n    return 10**5000\n",
    "taxonomy": "\nPROBLEM_KINDS = {p: 10**5000 for p in PROBLEMS}\n"
    'PROBLEM_KINDS["sentiment_analysis"] = [[[[{"deep": (10**400, float("nan"))}]]]]\n'
    'PROBLEM_KINDS["speech_to_text"] = {"many_to_many": 10**400}\n',
}
"""Appended to the references: a float that is an int too large for a float, an int too large to print, and
PROBLEM_KINDS mapped to huge ints and nested junk. The tasks they break: scalar, count, kinds."""
BROKEN = {"rnn_forward": "scalar", "shapes": "count", "taxonomy": "kinds"}


@pytest.mark.parametrize("case", ["huge_values", "no_problem_kinds"])
def test_run_charges_values_the_grader_cannot_handle_to_the_student(tmp_path: Path, case: str):
    """Hole 3: values the grader's own checks choke on. The tasks they break earn 0 as the student's failures
    (never "error"), the rest of each module its points; no grader traceback, path or hidden test line shows."""
    submission = tmp_path / "submission"
    if case == "huge_values":
        for name, tail in HUGE.items():
            honest(submission, name, extra=tail)
    else:
        source = reference("taxonomy")
        start = source.index("### BEGIN SOLUTION: PROBLEM_KINDS")
        end = source.index("### END SOLUTION", start) + len("### END SOLUTION")
        write(submission, {"taxonomy.py": source[:start] + source[end:]})
    handed_in = [*HUGE] if case == "huge_values" else ["taxonomy"]
    run, out = grade(submission, tmp_path, *(f"--assignment={name}" for name in handed_in))
    assert run.code == 0, run.stderr
    report = report_of(out)
    graded = assignments_of(report)
    assert set(graded) == set(handed_in)
    for name, result in graded.items():
        for task in result["tasks"]:
            if task["id"] == BROKEN[name]:
                assert task["score"] == 0
                verdicts = {(t["status"], t["feedback"]["kind"]) for t in task["tests"]}
                assert all(status == "failed" and kind != "error" for status, kind in verdicts), (name, verdicts)
            else:
                assert task["score"] == pytest.approx(task["max_score"]), (name, task["id"])
    assert not leaks(gather(run.stdout, run.stderr, out), copied=set(graded), secrets={ENV_SECRET})


def test_run_refuses_a_270_mb_module_as_too_large(tmp_path: Path):
    """Hole 6: a 270 MB rnn_forward.py (sparse) is that module's "too large", never a sandbox failure; gated_cells
    is graded."""
    submission = honest(tmp_path / "submission", "rnn_forward", "gated_cells")
    os.truncate(submission / "rnn_forward.py", 270 << 20)
    run, out = grade(submission, tmp_path)
    assert run.code == 0, run.stderr
    report, text = report_of(out), gather(out)
    assert full_marks(report, "gated_cells")
    assert earned(report, "rnn_forward") == 0
    assert mentions(text, "rnn_forward.py", ("too large", "mib", " mb")), "the size is not the reason given"
    kinds = {
        t["feedback"]["kind"] for a in report["assignments"] for k in a["tasks"] for t in k["tests"] if t["feedback"]
    }
    assert "sandbox" not in kinds and "sandbox" not in str(assignments_of(report)["rnn_forward"].get("error"))


def hostile_notebook(path: Path) -> Path:
    """A correct rnn_forward notebook that prints lone surrogates and whose dropped line holds markdown."""
    return notebook(path, reference("rnn_forward"), SURROGATES, INJECTION)


@pytest.fixture(scope="module")
def hostile_graded(tmp_path_factory) -> tuple[Path, Path]:
    """The hostile notebook graded once for the session through ``grader run --format json``: its folder and the
    report."""

    def produce(folder: Path) -> list[str]:
        submission = hostile_notebook(folder / "submission" / "rnn_forward.ipynb").parent
        run, out = grade(submission, folder, "-a", "rnn_forward")
        assert run.code == 0, run.stderr
        return [str(submission), str(out)]

    submission, report = shared("redteam_trusted_hostile", tmp_path_factory, produce)
    return Path(submission), Path(report)


@pytest.mark.parametrize("fmt", ["stdout", "text", "markdown", "html", "json", "junit", "gradescope"])
def test_run_renders_student_text_as_text_in_every_format(tmp_path: Path, monkeypatch, hostile_graded, fmt: str):
    """Hole 4 through ``grader run``: a correct notebook (the reference's code) that prints lone surrogates and
    has a dropped line with backticks, a bold total and an image, which the report quotes. 10 / 10 in every format,
    written as valid UTF-8, and the markdown and HTML render none of the student's text as markup. Graded once, by
    ``hostile_graded`` (the json format); every other format is written by ``grader run`` itself, run in this
    process on that grading's report."""
    submission, graded = hostile_graded
    if fmt == "json":
        text = graded.read_bytes().decode("utf-8")  # strict: a lone surrogate cannot be in a UTF-8 file
    else:
        report = GradingReport.model_validate_json(graded.read_bytes())
        monkeypatch.setattr("grader.engine.grade_submission", lambda *args, **kwargs: report)
        args = ["run", str(submission), "-a", "rnn_forward", "--course", str(ROOT)]
        out = tmp_path / f"report.{fmt}"
        fmt_args = [] if fmt == "stdout" else ["--format", fmt, "-o", str(out)]
        run = CliRunner().invoke(main, [*args, *fmt_args], env={"COLUMNS": "1000"})
        assert run.exit_code == 0, run.output
        text = (run.stdout_bytes if fmt == "stdout" else out.read_bytes()).decode("utf-8")
    if fmt in ("json", "gradescope"):
        assert json.loads(text)["score"] == 10
    elif fmt == "junit":
        assert "<testcase" in text and "<failure" not in text and "<error" not in text
    else:
        assert re.search(r"\b10 / 10\b", html.unescape(text)), text[:500]
    if fmt == "markdown":
        assert not injected(text), injected(text)
    if fmt == "html":
        assert not re.search(r"<img\b|<strong>\s*Total: 60", text), "student text rendered as HTML"


# ----------------------------------------------------------------------------------------------------------------
# grader ci, course-repository mode (a pull request graded with the encrypted hidden bundle)


@pytest.fixture(scope="module")
def hidden_bundle(tmp_path_factory) -> tuple[Path, str]:
    """The encrypted hidden bundle of taxonomy, rnn_forward and shapes, and its throwaway key."""
    from cryptography.fernet import Fernet

    folder = tmp_path_factory.mktemp("hidden")
    key, bundle = Fernet.generate_key().decode(), folder / "hidden.tar.enc"
    release = [*GRADER, "release", "taxonomy", "rnn_forward", "shapes", "--hidden-bundle", str(bundle)]
    assert cli([*release, "--course", str(ROOT)], environment(folder, GRADER_HIDDEN_KEY=key)).code == 0
    return bundle, key


def ci_mode_2(checkout: Path, bundle: Path, key: str) -> tuple[Run, dict[str, Path]]:
    """``grader ci .pull-request`` as the course workflow runs it, in ``checkout``; the run and its files."""
    files = {name: checkout / name for name in ("summary.md", "output", "comment.md")}
    env = environment(
        checkout,
        GRADER_HIDDEN_KEY=key,
        GITHUB_STEP_SUMMARY=str(files["summary.md"]),
        GITHUB_OUTPUT=str(files["output"]),
    )
    command = [*GRADER, "ci", ".pull-request", "--hidden-bundle", str(bundle), "--key-env", "GRADER_HIDDEN_KEY"]
    run = cli([*command, "--annotations", "--comment", str(files["comment.md"])], env, cwd=checkout)
    return run, files


def step_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@needs_bwrap
def test_ci_mode_2_refuses_linked_modules_and_keeps_the_key(tmp_path: Path, hidden_bundle):
    """Holes 1, 2 and 7 through ``grader ci --hidden-bundle``: a pull request whose rnn_forward.py links to the
    reference and shapes.py to /proc/self/environ (the grading step's environment holds the key), beside a course
    of its own with conftest.py files, and an honest taxonomy.py that prints os.environ, /proc/*/environ and any
    decrypted bundle it finds in /tmp. It earns taxonomy's 10 points; the comment refuses the links by name; the
    key, the hidden tests and the decrypted folder never show; nothing is left in TMPDIR."""
    bundle, key = hidden_bundle
    checkout = tmp_path / "checkout"
    pull_request = takeover(checkout / ".pull-request", starter_module=False)
    honest(pull_request, "taxonomy", snoop=True)
    linked(
        pull_request, {"rnn_forward.py": ROOT / "reference" / "rnn_forward.py", "shapes.py": Path("/proc/self/environ")}
    )
    untouched = Untouched(pull_request)
    run, files = ci_mode_2(checkout, bundle, key)
    assert run.code == 0, run.stdout + run.stderr
    assert not (checkout / "marker").exists(), "a file of the pull request ran in the grader"
    assert float(step_outputs(files["output"])["score"]) == 10
    comment = gather(files["comment.md"])
    for name in ("rnn_forward.py", "shapes.py"):
        assert mentions(comment, name), f"the comment does not refuse the link {name}"
    text = gather(run.stdout, run.stderr, *files.values())
    assert not leaks(text, copied={"taxonomy"}, secrets={key, ENV_SECRET, "grader-hidden-"})
    untouched.check()
    assert not list((checkout / "tmp").iterdir()), "the decrypted hidden bundle was left behind"


@needs_bwrap
def test_ci_mode_2_renders_student_text_as_text(tmp_path: Path, hidden_bundle):
    """Hole 4 through ``grader ci``: the correct notebook that prints lone surrogates and whose dropped line holds
    markdown, and a correct taxonomy. Full marks for both (20 of the bundle's 30: shapes was not handed in); the
    summary and the comment render none of its markdown."""
    bundle, key = hidden_bundle
    pull_request = tmp_path / "checkout" / ".pull-request"
    hostile_notebook(pull_request / "rnn_forward.ipynb")
    honest(pull_request, "taxonomy")
    run, files = ci_mode_2(tmp_path / "checkout", bundle, key)
    assert run.code == 0, run.stdout + run.stderr
    outputs = step_outputs(files["output"])
    assert (float(outputs["score"]), float(outputs["max-score"])) == (20, 30)
    for name in ("summary.md", "comment.md"):
        text = files[name].read_bytes().decode("utf-8")
        assert not injected(text), (name, injected(text))


# ----------------------------------------------------------------------------------------------------------------
# Gradescope's run_autograder


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    """``grader release --format gradescope`` of the whole course (with a stand-in wheel: the checkout's
    virtualenv does the grading)."""
    out = tmp_path_factory.mktemp("gradescope")
    wheel = out / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a stand-in: nothing installs it")
    release = [*GRADER, "release", "--format", "gradescope", "--out", str(out), "--wheel", str(wheel), "--single-zip"]
    assert cli([*release, "--course", str(ROOT)], environment(out)).code == 0
    return out / "autograder.zip"


def run_autograder(root: Path, tmp_path: Path) -> tuple[Run, dict[str, Any]]:
    """``root/run_autograder`` run as Gradescope runs it; the run and the results.json it wrote."""
    env = environment(tmp_path, GRADER_AUTOGRADER_ROOT=str(root), GRADER_VENV=sys.prefix)
    run = cli([str(root / "run_autograder")], env, cwd=root)
    assert run.code == 0, run.stderr
    return run, json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


@needs_bwrap
def test_gradescope_refuses_modules_that_are_links_pipes_or_folders(tmp_path: Path, autograder: Path):
    """Hole 1 through run_autograder: modules linked to the zip's reference, hidden test and seeded course.toml in
    /autograder/source, a folder and a FIFO; gated_cells is honest and prints what reached the worker. Exactly
    gated_cells' 10 points; each other module refused by name; nothing of source/ shows."""
    root = unpack(autograder, tmp_path / "autograder")
    course = root / "source" / "course"
    submission = honest(root / "submission", "gated_cells", snoop=True)
    links = {
        "rnn_forward.py": course / "reference" / "rnn_forward.py",
        "taxonomy.py": course / HIDDEN.relative_to(ROOT),
        "shapes.py": course / "assignments" / "course.toml",
    }
    linked(submission, links)
    (submission / "attention.py").mkdir()
    os.mkfifo(submission / "bptt.py")
    untouched = Untouched(root / "source", submission)
    run, results = run_autograder(root, tmp_path)
    assert results["score"] == 10 == pytest.approx(sum(t["score"] for t in results["tests"]))
    text = gather(run.stdout, run.stderr, root / "results")
    for name in links:
        assert mentions(text, name), f"{name} (a link) is not refused by name"
    assert mentions(text, "attention.py", ("folder", "directory", "regular file")), "the folder is not refused"
    assert mentions(text, "bptt.py", ("regular file", "pipe", "fifo")), "the FIFO is not refused"
    assert not leaks(text, copied={"gated_cells"}, secrets={ENV_SECRET}, paths={root / "source"})
    untouched.check()


def test_gradescope_never_takes_the_course_from_the_submission(tmp_path: Path, autograder: Path):
    """Hole 2 (and 4) through run_autograder: the upload brings its own course, tests and conftest.py files, a
    starter rnn_forward and a correct attention notebook whose dropped line holds markdown. It earns attention's
    10 points of the real course's 60, no file of it runs, and the md output renders none of its text."""
    root = unpack(autograder, tmp_path / "autograder")
    takeover(root / "submission")
    notebook(root / "submission" / "attention.ipynb", reference("attention"), INJECTION)
    run, results = run_autograder(root, tmp_path)
    assert not (tmp_path / "marker").exists(), "a file of the submission ran in the grader"
    assert results["score"] == 10
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(70), "graded by the upload's own course"
    assert not injected(results["output"]), injected(results["output"])
    assert not leaks(gather(run.stdout, run.stderr, root / "results"), copied={"attention"}, paths={root / "source"})


# ----------------------------------------------------------------------------------------------------------------
# grader batch and the gradebook's exports


def batch(folder: Path, tmp_path: Path, *args: str, timeout: float = 600) -> Run:
    """``grader batch FOLDER`` into the test's gradebook and summary; ``args``, e.g. the expected assignments."""
    db = tmp_path / "gradebook.sqlite"
    command = [*GRADER, "batch", str(folder), "--db", str(db), "--jobs", "2", "--time-limit", "2", *args]
    return cli([*command, "--summary", str(tmp_path / "summary.html")], environment(tmp_path), timeout=timeout)


def export(tmp_path: Path) -> Run:
    db, out = tmp_path / "gradebook.sqlite", tmp_path / "export"
    command = [*GRADER, "gradebook", "export", "--db", str(db), "--csv", str(out / "grades.csv")]
    out.mkdir(exist_ok=True)
    return cli([*command, "--feedback", str(out / "feedback")], environment(tmp_path))


def outcomes(tmp_path: Path) -> dict[str, Outcome]:
    with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
        return {o.student: o for o in gradebook.latest()}


def earned_in(outcome: Outcome, name: str) -> float:
    found = [a for a in outcome.report.assignments if a.name == name] if outcome.report else []
    return found[0].score if found else 0.0


def graded_honestly(found: dict[str, Outcome]) -> None:
    """No outcome says the grader itself failed on a submission (a crash caught per student)."""
    crashed = {s: o.reason for s, o in found.items() if o.reason and "grader failed" in o.reason}
    crashed |= {s: o.reason for s, o in found.items() if o.reason and "grading process failed" in o.reason}
    assert not crashed, crashed


def test_batch_nbgrader_refuses_linked_folders_and_modules(tmp_path: Path):
    """Hole 1 through ``grader batch`` with nbgrader's submitted/<student>/<assignment>/: assignment folders that
    link to reference/ and to a hidden tests folder, and a linked module beside an honest one. Links earn nothing
    and are refused by name; the honest modules earn their points."""
    submitted = tmp_path / "class" / "submitted"
    for student in ("alice", "bob", "carol"):
        (submitted / student).mkdir(parents=True)
    (submitted / "alice" / "hw1").symlink_to(ROOT / "reference")
    (submitted / "bob" / "hw1").symlink_to(ROOT / "assignments" / "rnn_forward" / "tests" / "hidden")
    honest(submitted / "bob" / "hw2", "gated_cells")
    honest(submitted / "carol" / "hw1", "gated_cells")
    (submitted / "carol" / "hw1" / "rnn_forward.py").symlink_to(ROOT / "reference" / "rnn_forward.py")
    honest(submitted / "erin" / "hw1", "rnn_forward")
    untouched = Untouched(submitted)
    run = batch(tmp_path / "class", tmp_path)
    export(tmp_path)
    found = outcomes(tmp_path)
    graded_honestly(found)
    assert found["erin"].report and found["erin"].report.score == 10, found["erin"].reason
    assert found["alice"].percent == 0
    for student in ("bob", "carol"):
        assert found[student].report and found[student].report.score == 10, (student, found[student].reason)
        assert earned_in(found[student], "gated_cells") == 10
    carol = gather((tmp_path / "export" / "feedback" / "carol.md"), found["carol"].model_dump_json())
    assert mentions(carol, "rnn_forward.py"), "carol's linked rnn_forward.py is not refused by name"
    text = gather(run.stdout, run.stderr, tmp_path / "export", tmp_path / "summary.html")
    assert not leaks(text, copied={"rnn_forward", "gated_cells"}, secrets={ENV_SECRET})
    untouched.check()


FORMULAS = ("=2+5", "@SUM(A1)", "+1", "-1")
MARKDOWN_ID = "![x](e.png) **Total: 60 ∕ 60**"


def markup_zip(path: Path, member: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, "not a module\n")


def test_batch_grades_a_class_of_hostile_names_links_courses_and_sizes(tmp_path: Path):
    """Holes 1, 2, 4 and 6 through ``grader batch``, run twice, and ``gradebook export``: a module that links to
    the reference beside an honest one, a student folder that brings its own course, rich markup in a folder's and
    archive members' names, ids that are spreadsheet formulas or markdown, and a 270 MB module beside an honest
    one."""
    folder = tmp_path / "class"
    honest(folder / "zoe", "rnn_forward")
    honest(folder / "eve", "gated_cells")
    (folder / "eve" / "rnn_forward.py").symlink_to(ROOT / "reference" / "rnn_forward.py")
    takeover(folder / "mallory")
    write(folder / "[bold]", {"notes.txt": "nothing to grade\n"})
    markup_zip(folder / "markup_dir.zip", "[/bold]/notes.txt")
    markup_zip(folder / "markup_name.zip", "[/bold].zip")
    markup_zip(folder / "markup_escape.zip", "../[/bold].zip")
    for student in (*FORMULAS, MARKDOWN_ID):
        honest(folder / student, "rnn_forward")
    honest(folder / "huge", "rnn_forward", "gated_cells")
    os.truncate(folder / "huge" / "rnn_forward.py", 270 << 20)
    untouched = Untouched(folder)
    expected = ("-a", "rnn_forward", "-a", "gated_cells")  # 20 points
    first = batch(folder, tmp_path, *expected)
    again = batch(folder, tmp_path, *expected)  # unchanged: nothing to grade, the same summary
    export(tmp_path)
    assert not (tmp_path / "marker").exists(), "a file of mallory's submission ran in the grader"
    found = outcomes(tmp_path)
    graded_honestly(found)
    for student in ("zoe", *FORMULAS, MARKDOWN_ID):
        assert found[student].status == "graded" and earned_in(found[student], "rnn_forward") == 10, student
    assert earned_in(found["eve"], "gated_cells") == 10 and earned_in(found["eve"], "rnn_forward") == 0
    assert mentions(gather(tmp_path / "export" / "feedback" / "eve.md"), "rnn_forward.py"), "eve's link not refused"
    assert found["mallory"].percent == 0
    if found["mallory"].report:
        assert found["mallory"].report.max_score == 20, "mallory was graded by her own assignment.toml"
    for student in ("[bold]", "markup_dir", "markup_name", "markup_escape"):
        assert found[student].status == "error", student
    huge = found["huge"]
    assert earned_in(huge, "gated_cells") == 10 and earned_in(huge, "rnn_forward") == 0
    assert mentions(gather(tmp_path / "export" / "feedback" / "huge.md"), "rnn_forward.py", ("too large", "mib"))
    assert all(t.feedback.kind != "sandbox" for a in huge.report.assignments for t in a.tests if t.feedback)
    with (tmp_path / "export" / "grades.csv").open(newline="", encoding="utf-8") as file:
        cells = [cell for row in csv.reader(file) for cell in row]
    formulas = [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
    assert not formulas, f"cells a spreadsheet runs as formulas: {formulas}"
    for feedback in (tmp_path / "export" / "feedback").glob("*.md"):
        assert not injected(feedback.read_text(encoding="utf-8")), (feedback.name, injected(feedback.read_text()))
    text = gather(
        first.stdout, first.stderr, again.stdout, again.stderr, tmp_path / "export", tmp_path / "summary.html"
    )
    assert not leaks(text, copied={"rnn_forward", "gated_cells"}, secrets={ENV_SECRET})
    untouched.check()


def tar_header(name: str, size: int, kind: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode = size, kind, 0o644
    return info.tobuf(format=tarfile.GNU_FORMAT)


def tar_tail(files: dict[str, bytes]) -> bytes:
    """Regular members, then the end of the archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def huge_member_tgz(path: Path, kind: bytes, module: bytes) -> None:
    """A 4 MB .tar.gz whose first member, of type ``kind``, declares 4 GiB and is followed by 4 GiB of zeros (one
    compressed 64 MiB block of zeros written 64 times: gzip allows many members in one file), then ``module``."""
    zeros = gzip.compress(bytes(64 << 20), compresslevel=9, mtime=0)
    with path.open("wb") as out:
        out.write(gzip.compress(tar_header("big", 4 << 30, kind), mtime=0))
        for _ in range(64):
            out.write(zeros)
        out.write(gzip.compress(tar_tail({"rnn_forward.py": module}), mtime=0))


def many_folders_tgz(path: Path, count: int, module: bytes) -> None:
    """A .tar.gz of ``count`` folder entries, then ``module`` (headers made from one template: fast)."""
    info = tarfile.TarInfo("d0000000/")
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    template = bytearray(info.tobuf(format=tarfile.USTAR_FORMAT))
    template[0:100], template[148:156] = bytes(100), b" " * 8
    rest = sum(template)
    blocks = []
    for i in range(count):
        name = b"d%07d/" % i
        block = bytearray(template)
        block[0 : len(name)] = name
        block[148:156] = b"%06o\0 " % (rest + sum(name))
        blocks.append(bytes(block))
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(b"".join(blocks))
        out.write(tar_tail({"rnn_forward.py": module}))


def many_folders_zip(path: Path, count: int, module: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(count):
            archive.writestr(zipfile.ZipInfo(f"d{i:07d}/"), b"")
        archive.writestr("rnn_forward.py", module)


def test_batch_refuses_archive_bombs_for_their_student_only(tmp_path: Path):
    """Hole 5 through ``grader batch``: a 4 MB .tar.gz with a 4 GiB member of a type the extractor skips (an
    unknown type, whose data tarfile reads past, and a character device), 300k folder entries in a .tar.gz and
    60k in a .zip, each followed by a correct module. Each is refused for its student, quickly; the rest of the
    class is graded."""
    folder = tmp_path / "class"
    module = reference("rnn_forward").encode()
    honest(folder / "zoe", "rnn_forward")
    with zipfile.ZipFile(folder / "zed.zip", "w") as archive:
        archive.writestr("zed/rnn_forward.py", module)
    huge_member_tgz(folder / "bomb_unknown_type.tar.gz", b"V", module)
    huge_member_tgz(folder / "bomb_device.tar.gz", tarfile.CHRTYPE, module)
    many_folders_tgz(folder / "folders_tar.tar.gz", 300_000, module)
    many_folders_zip(folder / "folders_zip.zip", 60_000, module)
    assert (folder / "bomb_unknown_type.tar.gz").stat().st_size < 8 << 20
    batch(folder, tmp_path, "-a", "rnn_forward", timeout=90)
    found = outcomes(tmp_path)
    graded_honestly(found)
    assert found["zoe"].percent == pytest.approx(100) and found["zed"].percent == pytest.approx(100)
    for student in ("bomb_unknown_type", "bomb_device", "folders_tar", "folders_zip"):
        assert found[student].status == "error" and found[student].percent == 0, (student, found[student].reason)
        assert student in (found[student].reason or ""), f"{student}'s reason does not name the archive"
