"""An nbgrader course: ``nbgrader_config.py`` and ``source/<assignment>/<assignment>.ipynb`` for ``nbgrader
generate_assignment``, whose notebooks nbgrader itself can validate and autograde.

Cell metadata follows nbgrader's schema version 3 (``nbgrader/nbgraderformat/v3.json``). A code cell holding the
reference's ``### BEGIN SOLUTION`` regions is an autograded answer (``solution: true``), which nbgrader's
ClearSolutions turns into ``# YOUR CODE HERE`` / ``raise NotImplementedError()``. After each task's functions comes
an autograder-test cell (``grade: true``, the task's ``points``, ``grade_id`` ``test_<task>``, locked) holding the
task's public test cases as plain data: they are recorded here, by running the public tests on the reference in this
process, and only what a public test passes to ``grade.expect`` (inputs, expected value, tolerance) is kept, so no
hidden test and no value of the reference reaches the students' kernel. A test cell's value is the share of the
task's points its tests earned (nbgrader's partial credit), as grader shares a task's points among its tests. Every
other cell is read-only (``locked: true``).

Re-releasing never overwrites a source notebook the instructor edited: ``.grader-release.json`` at the course's root
keeps a digest of what grader last wrote there (cells' types, sources and nbgrader metadata, so that running or
re-saving a notebook is not an edit).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import re
import warnings
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import torch
from nbformat import NotebookNode
from pydantic import BaseModel, ValidationError

from grader.feedback import GradingFailure
from grader.release.cells import CodeCell
from grader.release.contents import reference
from grader.release.errors import ReleaseError
from grader.release.notebooks import module_cells, notebook, write_notebook
from grader.signatures import contract_functions, reference_parameters
from grader.spec import Assignment, Course, TaskSpec, Tolerance
from grader.starter import BEGIN
from grader.student import Call, Kept, LocalStudent
from grader.suite import collect
from grader.testkit import NO_REFERENCE, CourseError, Fixtures, Grade, case_seed

SCHEMA_VERSION = 3
CONFIG = "nbgrader_config.py"
RECORD = ".grader-release.json"
INSTRUCTIONS = """## Your code

Write your code in the cells that say `# YOUR CODE HERE`, in place of that line and its
`raise NotImplementedError()`, and leave the other cells as they are. Where the handout speaks of the public tests
in `tests/public/`, it means the test cells of this notebook: after each task's functions, a test cell runs that
task's public tests and is worth the task's points. Run the whole notebook (Kernel, Restart & Run All): a test cell
shows the points it gives, prints each test that failed, and stops with an error when none passed. Validate the
notebook before you submit it. Your instructor may grade it with more tests, on other inputs."""
CHECKS = '''\
# The checks the test cells below run (written by grader release; nbgrader restores this cell when it grades).
import contextlib
import io
import warnings

import torch


def _grader_t(values, dtype, shape):
    """A tensor of the test cells' data."""
    return torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)


def _grader_shown(value):
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _grader_problem(name, got, expected, rtol, atol):
    """Why ``got`` is not ``expected`` (tensors and floats within rtol and atol), or None."""
    kind = type(got).__name__
    if isinstance(expected, torch.Tensor):
        if type(got) is not torch.Tensor:
            return f"'{name}' should be a torch.Tensor, not a {kind}"
        if got.shape != expected.shape:
            return f"'{name}' has the wrong shape: got {tuple(got.shape)}, expected {tuple(expected.shape)}"
        if got.dtype != expected.dtype:
            return f"'{name}' has the wrong dtype: got {got.dtype}, expected {expected.dtype}"
        if expected.is_floating_point():
            close = torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
        else:
            close = got == expected
        wrong = int((~close).sum())
        return f"'{name}' has {wrong} of {close.numel()} values wrong" if wrong else None
    if isinstance(expected, float):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"'{name}' should be a Python float, not a {kind}"
        if abs(got - expected) <= atol + rtol * abs(expected):
            return None
        return f"'{name}' is wrong: got {got!r}, expected {expected!r}"
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"'{name}' should be a dict, not a {kind}"
        if set(got) != set(expected):
            keys = _grader_shown(sorted(got, key=repr))
            return f"'{name}' has the wrong keys: got {keys}, expected {sorted(expected, key=repr)}"
        checks = (_grader_problem(f"{name}[{k!r}]", got[k], v, rtol, atol) for k, v in expected.items())
        return next((problem for problem in checks if problem), None)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return f"'{name}' should be a {type(expected).__name__}, not a {kind}"
        if len(got) != len(expected):
            return f"'{name}' has the wrong length: got {len(got)}, expected {len(expected)}"
        checks = (_grader_problem(f"{name}[{i}]", g, e, rtol, atol) for i, (g, e) in enumerate(zip(got, expected)))
        return next((problem for problem in checks if problem), None)
    if type(got) is not type(expected) and not (type(expected) is int and isinstance(got, int) and kind != "bool"):
        return f"'{name}' should be a {type(expected).__name__}, not a {kind}"
    return None if got == expected else f"'{name}' is wrong: got {_grader_shown(got)}, expected {expected!r}"


def _grader_outputs(outputs, got, expected, rtol, atol):
    """The first output of ``got`` (named as the handout names them) that is not as expected."""
    if len(outputs) == 1 and isinstance(outputs[0], str):
        return _grader_problem(outputs[0], got, expected, rtol, atol)
    if not isinstance(got, (tuple, list)) or len(got) != len(outputs):
        return f"the result should be a tuple of {len(outputs)} values, not a {type(got).__name__}"
    for name, g, e in zip(outputs, got, expected):
        problem = _grader_outputs([name] if isinstance(name, str) else name, g, e, rtol, atol)
        if problem:
            return problem
    return None


def _grader_call(function, outputs, args, expected, rtol, atol):
    """A check: ``function(*args)`` returns ``expected``."""

    def check():
        if not callable(globals().get(function)):
            return f"{function} is not defined: run its cell first"
        try:
            got = globals()[function](*args)
        except Exception as error:
            return f"{function} raised {type(error).__name__}" + (f": {error}" if str(error) else "")
        problem = _grader_outputs(outputs, got, expected, rtol, atol)
        return problem and f"{function}: {problem}"

    return check


def _grader_form(name, kind, keys, values):
    """A check: the value ``name`` is a ``kind`` (a dict with exactly ``keys``, each value a ``values``)."""

    def check():
        if name not in globals():
            return f"{name} is not defined: run its cell first"
        value = globals()[name]
        if type(value).__name__ != kind:
            return f"{name} should be a {kind}, not a {type(value).__name__}"
        if keys is not None and sorted(value, key=repr) != keys:
            return f"{name} should have exactly the keys {keys}"
        wrong = [key for key in value if type(value[key]).__name__ != values] if values is not None else []
        return f"{name}[{wrong[0]!r}] should be a {values}" if wrong else None

    return check


def _grader_task(points, tests):
    """Run a task's tests (each a name and its checks: it passes when all of them do) and give the share of
    ``points`` they earned; an AssertionError says why when none passed."""
    failed = []
    for test, checks in tests:
        for check in checks:
            try:
                with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                    warnings.simplefilter("ignore")
                    problem = check()
            except Exception as error:
                problem = f"checking the result raised {type(error).__name__}" + (f": {error}" if str(error) else "")
            if problem:
                failed.append(f"{test}: {problem}")
                break
    if len(failed) == len(tests):
        raise AssertionError("no test of this task passed:\\n" + "\\n".join(failed))
    for line in failed:
        print("failed:", line)
    return points * (len(tests) - len(failed)) / len(tests)
'''
TEST_CELL = """\
# Task {task.id!r}, {points} points: {task.title}.
# Its public tests: a test passes when all of its checks do (written by grader release; do not edit).
_grader_task({task.points!r}, [
{tests}
])"""
PLAIN = (dict, list, tuple, str, int, float, bool)


class Unportable(Exception):
    """A public test that checks with more than plain data (the reference, its own code), so it cannot go into a
    notebook the students' kernel runs."""


@dataclass(frozen=True)
class CallCheck:
    """A public test's ``grade.expect``: ``function(*args)`` must give ``expected``."""

    function: str
    outputs: list[str | list[str]]
    args: tuple[Any, ...]
    expected: Any
    tolerance: Tolerance


@dataclass(frozen=True)
class FormCheck:
    """A public test's ``grade.constant``: the value's type (and a dict's keys and value type), never the value."""

    name: str
    kind: str
    keys: list[Any] | None
    values: str | None


Check = CallCheck | FormCheck


@dataclass
class PublicTest:
    """One public test as recorded on the reference: its id, task and checks (as the test cell's source)."""

    name: str
    task: str
    checks: list[str]


def form_check(name: str, value: Any) -> FormCheck:
    """The form of the constant ``name``, whose value on the reference is ``value``."""
    if type(value) not in PLAIN:
        raise Unportable(f"reads {name}, a {type(value).__name__}, which a notebook check cannot describe")
    if not isinstance(value, dict):
        return FormCheck(name, type(value).__name__, None, None)
    if not all(type(key) in (str, int) for key in value):
        raise Unportable(f"reads {name}, a dict whose keys are not all strings or ints")
    kinds = {type(item).__name__ for item in value.values()}
    return FormCheck(name, "dict", sorted(value, key=repr), kinds.pop() if len(kinds) == 1 else None)


@dataclass
class Recorder(Grade):
    """A public test's ``grade`` on the reference (with no reference module beside it, as in a student's bundle):
    each check is made as usual and kept, as plain data, in ``checks``."""

    checks: list[Check] = field(default_factory=list, kw_only=True)
    made: bool = field(default=False, kw_only=True)
    """Whether the test made an object of the student's (a model), which a notebook's checks cannot replay."""

    def make(self, function: str, *args: Any, seed: int | None = None) -> Kept:
        self.made = True
        return super().make(function, *args, seed=seed)

    def scenario(self, function: str, run: Any, *args: Any, **options: Any) -> Any:
        self.made = True
        return super().scenario(function, run, *args, **options)

    def _checked(
        self,
        function: str,
        args: tuple[Any, ...],
        expected: Callable[[], Any] | None,
        tolerance: Tolerance | None,
        watch: bool = False,
    ) -> Call:
        self._known(function)
        if expected is None:
            raise Unportable("checks only that the arguments are left as they were, which a notebook cannot see")
        outputs = self.spec.functions[function].outputs
        tolerance = tolerance or self.tolerance(args)
        value = expected()
        kept = CallCheck(function, outputs, copy.deepcopy(args), copy.deepcopy(value), tolerance)
        call = super()._checked(function, args, lambda: value, tolerance, watch)
        self.checks.append(kept)
        return call

    def call(self, function: str, *args: Any) -> Any:
        raise Unportable("checks the value with its own code, which a notebook cannot replay")

    def constant(self, name: str) -> Any:
        value = super().constant(name)
        self.checks.append(form_check(name, value))
        return value


def record_public_tests(course: Course, assignment: Assignment) -> tuple[list[PublicTest], list[str], set[str]]:
    """The public tests of ``assignment`` run on its reference, with the public seed (the inputs a student's bundle
    draws): those that can go into a notebook, a line for each that cannot, and the tasks of the tests that made
    a model."""
    path = reference(course, assignment.name)
    folder = assignment.tests_dir("public")
    cases = collect(folder, frozenset(t.id for t in assignment.spec.tasks), assignment.test_files("public"))
    seed = course.spec.seed_for("public", course.assignments_dir / "course.toml")
    student = LocalStudent(path)
    parameters = reference_parameters(path, contract_functions(assignment.spec))
    fixtures = Fixtures(assignment.spec, student, None, seed, parameters=parameters)
    tests, skipped, models = [], [], set()
    for case in cases:
        name = case.nodeid.split("::", 1)[-1]
        grade = Recorder(assignment.spec, student, None, case_seed(seed, case.nodeid), parameters=parameters)
        try:
            with warnings.catch_warnings(), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                values = fixtures.values(case.nodeid, [f for f in case.fixtures if f != "grade"])
                case.run(values | ({"grade": grade} if "grade" in case.fixtures else {}))
        except Unportable as reason:
            if grade.made:
                models.add(case.task or "")
            skipped.append(f"{assignment.name}: the public test {name} {reason}; it is not in the nbgrader notebook")
            continue
        except CourseError as error:
            if str(error) != NO_REFERENCE:
                raise ReleaseError(f"{assignment.name}: the public test {name} cannot run: {error}") from None
            skipped.append(f"{assignment.name}: the public test {name} needs the reference; it is not in the notebook")
            continue
        except GradingFailure as failure:
            raise ReleaseError(
                f"{assignment.name}: the reference fails the public test {name} ({failure.feedback.message}); "
                f"fix {path} or the test"
            ) from None
        except Exception as error:
            raise ReleaseError(
                f"{assignment.name}: the public test {name} fails on the reference ({type(error).__name__}: "
                f"{error}); fix {path} or the test"
            ) from None
        try:
            sources = [check_source(check) for check in grade.checks]
        except Unportable as reason:
            skipped.append(f"{assignment.name}: the public test {name} {reason}; it is not in the nbgrader notebook")
            continue
        if grade.made:
            models.add(case.task or "")
        if not sources:
            skipped.append(f"{assignment.name}: the public test {name} checks nothing through grade; it is left out")
            continue
        tests.append(PublicTest(name, case.task or "", sources))
    return tests, skipped, models


def literal(value: Any) -> str:
    """``value`` as Python source that the test cells' kernel evaluates back to it (a tensor through ``_grader_t``);
    :class:`Unportable` for anything but plain data."""
    if value is None or type(value) in (bool, str, int):
        return repr(value)
    if type(value) is float:
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, torch.Tensor) and not value.is_complex():
        dtype = str(value.dtype).removeprefix("torch.")
        return f"_grader_t({literal(value.detach().tolist())}, {dtype!r}, {tuple(value.shape)!r})"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(literal, value)) + ("," if len(value) == 1 else "") + ")"
    if type(value) is list:
        return "[" + ", ".join(map(literal, value)) + "]"
    if type(value) is dict:
        return "{" + ", ".join(f"{literal(key)}: {literal(item)}" for key, item in value.items()) + "}"
    raise Unportable(f"passes a {type(value).__name__}, which a notebook cell cannot hold as data")


def check_source(check: Check) -> str:
    if isinstance(check, FormCheck):
        return f"_grader_form({check.name!r}, {check.kind!r}, {literal(check.keys)}, {check.values!r})"
    t = check.tolerance
    parts = [repr(check.function), literal(check.outputs), literal(check.args), literal(check.expected)]
    return f"_grader_call({', '.join(parts)}, {t.rtol!r}, {t.atol!r})"


def points_text(points: float) -> str:
    return f"{points:g}"


def test_cell_source(task: TaskSpec, tests: Sequence[PublicTest]) -> str:
    """The autograder-test cell of ``task``: its public tests, each with its checks, one per line."""
    lines = []
    for test in tests:
        checks = "".join(f"        {check},\n" for check in test.checks)
        lines.append(f"    ({test.name!r}, [\n{checks}    ]),")
    return TEST_CELL.format(task=task, points=points_text(task.points), tests="\n".join(lines))


def test_cells(
    assignment: Assignment, tests: list[PublicTest], models: set[str]
) -> tuple[dict[str, str], list[str]]:
    """Each task's test cell source, and a line for each task none of whose public tests can run in a notebook
    because they make models (it gets no cell, and says so); a :class:`ReleaseError` for any other task without
    one."""
    sources, notes = {}, []
    for task in assignment.spec.tasks:
        mine = [test for test in tests if test.task == task.id]
        if not mine and task.id in models:
            notes.append(
                f"{assignment.name}: task {task.id!r} has no test cell: its public tests reach the student's model "
                f"by handle, which a notebook cell cannot replay, so nbgrader autograde leaves its {task.points:g} "
                "points out; grader's own grades (grader batch, then gradebook export --nbgrader) count them"
            )
        elif not mine:
            raise ReleaseError(
                f"{assignment.name}: no public test of task {task.id!r} can go into an nbgrader notebook; add one to "
                f"{assignment.tests_dir('public')} that checks with grade.expect (plain data) or grade.constant"
            )
        else:
            sources[task.id] = test_cell_source(task, mine)
    return sources, notes


def cell_metadata(grade_id: str, solution: bool, points: float | None = None) -> dict[str, object]:
    """nbgrader's metadata of a cell: an autograded answer when ``solution``, an autograder test worth ``points``
    when given, else read-only."""
    metadata: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "grade": points is not None,
        "solution": solution,
        "locked": not solution,
        "grade_id": grade_id,
    }
    if points is not None:
        metadata["points"] = points
    return metadata


def nbgrader_source(source: str) -> str:
    """``source`` with a ``### BEGIN SOLUTION: <stub>`` line split in two, the stub first, since nbgrader only
    knows plain regions (a region is replaced by its ``raise NotImplementedError()`` stub)."""
    lines = []
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin and begin["stub"]:
            lines += [f"{begin['indent']}{begin['stub']}", f"{begin['indent']}### BEGIN SOLUTION"]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def with_tests(nb: NotebookNode, cells: list[CodeCell], assignment: Assignment, sources: dict[str, str]) -> None:
    """Insert each task's test cell after the last cell of its functions (at the end when none has one), and the
    checks cell before the first test cell."""
    code = nb.cells[len(nb.cells) - len(cells) :]
    last = {}
    for task in assignment.spec.tasks:
        where = [i for i, cell in enumerate(cells) if cell.name in task.functions]
        last[task.id] = where[-1] if where else len(cells) - 1
    ordered = nb.cells[: len(nb.cells) - len(cells)]
    for i, cell in enumerate(code):
        ordered.append(cell)
        for task in (t for t in assignment.spec.tasks if last[t.id] == i and t.id in sources):
            if not any(c.id == "grader-checks" for c in ordered):
                ordered.append(nbformat.v4.new_code_cell(CHECKS, id="grader-checks"))
            test = nbformat.v4.new_code_cell(sources[task.id], id=f"test-{task.id}")
            test.metadata.nbgrader = cell_metadata(f"test_{task.id}", False, task.points)
            ordered.append(test)
    nb.cells = ordered


def source_notebook(course: Course, assignment: Assignment) -> tuple[NotebookNode, list[str]]:
    """The instructor's nbgrader notebook of ``assignment`` (the handout locked, the reference's code with its
    solution regions in solution cells, a test cell per task), and a line for each public test left out of it."""
    tests, skipped, models = record_public_tests(course, assignment)
    source = nbgrader_source(reference(course, assignment.name).read_text(encoding="utf-8"))
    cells = module_cells(assignment, source)
    nb = notebook(assignment, cells, INSTRUCTIONS)
    sources, untested = test_cells(assignment, tests, models)
    with_tests(nb, cells, assignment, sources)
    for cell in nb.cells:
        if "nbgrader" not in cell.metadata:
            cell.metadata.nbgrader = cell_metadata(cell.id.replace("-", "_"), "### BEGIN SOLUTION" in cell.source)
    return nb, skipped + untested


def digest(nb: NotebookNode) -> str:
    """What an edit of a source notebook changes: its cells' types, sources and nbgrader metadata (not outputs)."""
    cells = [[cell.get("cell_type"), cell.get("source"), cell.get("metadata", {}).get("nbgrader")] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


def digest_of(path: Path) -> str | None:
    """The digest of the notebook at ``path``, or None when it is not a notebook file that can be read."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return digest(nbformat.read(str(path), as_version=4))
    except Exception:
        return None


class ReleaseRecord(BaseModel):
    """What grader last wrote to an nbgrader course: the digest of each source notebook, by its path in the course."""

    sources: dict[str, str] = {}


def read_record(path: Path) -> ReleaseRecord:
    if not path.exists():
        return ReleaseRecord()
    try:
        return ReleaseRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise ReleaseError(
            f"{path}: cannot be read ({type(error).__name__}); delete it, then release again with --force if a source "
            "notebook is refused"
        ) from None


def course_id(title: str) -> str:
    """nbgrader's course id for a course titled ``title``: ``recurrent-neural-networks``."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "course"


def config_text(course: Course) -> str:
    """The course's ``nbgrader_config.py``: its id, and its root and gradebook wherever the folder is."""
    return f'''\
"""nbgrader's configuration of this course, written by grader release (which never overwrites it): yours to edit."""

import os

root = os.path.dirname(os.path.abspath(__file__))
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = {course_id(course.spec.title)!r}
c.CourseDirectory.root = root
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(root, "gradebook.db")
'''


@dataclass
class NbgraderRelease:
    """What a release wrote to an nbgrader course, and what it left as it was."""

    written: list[Path]
    unchanged: list[Path]
    config_kept: bool
    skipped: list[str]


def refused(paths: list[Path]) -> str:
    lines = [f"{path}: edited since grader released it (or not written by grader release)" for path in paths]
    return "\n".join([*lines, "keep your version by moving it out of the way, or give --force to overwrite it"])


def write_nbgrader_course(course: Course, names: list[str], out: Path, force: bool = False) -> NbgraderRelease:
    """``out/nbgrader_config.py`` (unless there is one) and ``out/source/<name>/<name>.ipynb`` for each assignment
    named; nothing is written when a source notebook was edited since grader wrote it, unless ``force``."""
    built = {name: source_notebook(course, course.assignment(name)) for name in names}
    record = read_record(out / RECORD)
    targets = {name: Path("source", name, f"{name}.ipynb") for name in names}
    new = {name: digest(nb) for name, (nb, _) in built.items()}
    found = {name: digest_of(out / path) for name, path in targets.items() if (out / path).exists()}
    edited = [
        out / targets[name]
        for name in found
        if found[name] is None or found[name] not in (new[name], record.sources.get(targets[name].as_posix()))
    ]
    if edited and not force:
        raise ReleaseError(refused(edited))
    written, unchanged = [], []
    for name, (nb, _) in built.items():
        path = out / targets[name]
        if found.get(name) == new[name]:
            unchanged.append(path)
            continue
        try:
            if path.is_symlink():
                path.unlink()
            written.append(write_notebook(nb, path))
        except OSError as error:
            raise ReleaseError(f"{path}: cannot be written ({error.strerror}); remove it and retry") from None
        record.sources[targets[name].as_posix()] = new[name]
    (out / RECORD).write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    config = out / CONFIG
    kept = config.exists()
    if not kept:
        config.write_text(config_text(course), encoding="utf-8")
        written.append(config)
    return NbgraderRelease(written, unchanged, kept, [line for _, skipped in built.values() for line in skipped])
