"""The course on disk: ``assignments/course.toml`` and one ``assignments/<name>/assignment.toml`` each."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.feedback import HiddenValues

Dtype = Literal["float32", "float64"]
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
"""When Gradescope shows students a result: at once, never, after the due date, once the grades are published."""
BUDGET_FACTOR = 12.0
"""An assignment's default time budget, in per-test time limits."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(BaseModel):
    """``|got - expected| <= atol + rtol * |expected|``, element by element."""

    rtol: float = Field(description="relative tolerance: the share of |expected| an element may be off by")
    atol: float = Field(description="absolute tolerance: what an element may be off by when expected is near 0")


class FunctionSpec(Strict):
    """One name a submission must define."""

    outputs: list[str | list[str]] = Field(
        default=["result"],
        description="names of the returned values, which feedback quotes ('hs' has the wrong shape): one name for a "
        'single value, a list for a tuple, a nested list for a nested tuple, e.g. ["hs", ["h_last", "c_last"]]',
    )
    equation: str | None = Field(
        None, description="the handout's equation, shown on the 'see:' line of a wrong output's feedback"
    )
    constant: bool = Field(
        False, description="a module-level value (tests read it with grade.constant) rather than a function"
    )


class TaskSpec(Strict):
    """A graded unit: its points are shared equally by the tests marked with its id."""

    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="stable id, unique in the assignment, that tests name in @pytest.mark.task(ID) and reports show",
    )
    title: str = Field(description="what the task grades, in a few words, as reports show it")
    points: float = Field(gt=0, description="the task's points, shared equally by the tests marked with its id")
    functions: list[str] = Field(min_length=1, description="the functions this task grades")


class Rules(Strict):
    """Rules of the contract enforced on the submission's module."""

    no_autograd: bool = Field(
        False, description="derivatives by hand: no torch.autograd, .backward(), requires_grad or torch.func"
    )
    no_recurrent_modules: bool = Field(
        False,
        description="recurrences by hand: no torch.nn.RNN, GRU or LSTM (nor their cells) and no operator behind them",
    )
    no_recurrent_layers: bool = Field(
        False,
        description="the loop over time by hand: no torch.nn.RNN, GRU or LSTM and no operator behind them, but "
        "torch.nn.RNNCell, GRUCell and LSTMCell are allowed (and trainable, unless no_autograd); not together with "
        "no_recurrent_modules, which refuses the cells too (set one of the two)",
    )

    @model_validator(mode="after")
    def _one_recurrent_rule(self) -> Rules:
        if self.no_recurrent_modules and self.no_recurrent_layers:
            raise ValueError(
                "no_recurrent_modules refuses the cells that no_recurrent_layers allows: set one of the two "
                "(no_recurrent_layers to let students use torch.nn.RNNCell, GRUCell and LSTMCell)"
            )
        return self


class GradescopeSpec(Strict):
    """When Gradescope shows students the results of this assignment's hidden tests."""

    visibility: Visibility = Field(
        "after_due_date",
        description="when a student sees each hidden test's result on Gradescope: 'visible' (at once), "
        "'after_due_date', 'after_published' (once the grades are published) or 'hidden' (never); the score counts "
        "either way, and public tests are always 'visible'",
    )
    task_visibility: dict[str, Visibility] = Field(
        default_factory=dict,
        description="a task's hidden tests instead, by task id, e.g. { gru_cell = 'visible' }",
    )


class DatasetSpec(Strict):
    """A labelled dataset of the assignment's, split once for the whole course into a training and a test part."""

    file: str = Field(
        description="a CSV file in the assignment's folder, e.g. data/names.csv: a header, then one row per example "
        "whose first column is the input and second its label"
    )
    test_fraction: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="the share of the examples held out for testing, chosen by a hash of the course's seed and the "
        "input (so the split is fixed for the course, and changes with its seed); their labels never leave the grader",
    )


class QualitySpec(Strict):
    """How a measured quality (a trained model's accuracy) scores: linearly from ``zero_at`` to ``full_at``. Written by
    ``grader calibrate`` from the reference trained with several seeds; never typed by hand."""

    full_at: float = Field(description="full marks from here up: the reference's mean less a few standard deviations")
    zero_at: float = Field(description="no points at or below this: what a model that learned nothing scores")
    reference_mean: float = Field(description="the reference's mean over the calibration's seeds")
    reference_std: float = Field(ge=0, description="the reference's standard deviation over those seeds")
    seeds: int = Field(ge=2, description="how many seeds the calibration trained the reference with")

    @model_validator(mode="after")
    def _ordered(self) -> QualitySpec:
        if not self.zero_at < self.full_at:
            raise ValueError(f"zero_at ({self.zero_at}) must be below full_at ({self.full_at}): run grader calibrate")
        return self


class AssignmentSpec(Strict):
    """``assignments/<name>/assignment.toml``."""

    name: str = Field(description="the module stem a submission provides, e.g. gated_cells; the folder's name too")
    title: str = Field(description="the assignment's title, as reports and the released bundle show it")
    time_limit: float = Field(10.0, gt=0, description="wall-clock seconds allowed for one test")
    time_budget: float | None = Field(
        None,
        gt=0,
        description="wall-clock seconds all of one submission's tests of this assignment may take together; "
        f"default {BUDGET_FACTOR:g} times time_limit; past it, the tests left are not run and cost their points",
    )
    rules: Rules = Field(Rules(), description="the contract's rules, enforced on the submission's module")
    tolerance: dict[Dtype, Tolerance] = Field(
        description="how close a value must be: a check uses the table of its first floating-point argument's dtype, "
        "unless the test gives tolerance="
    )
    functions: dict[str, FunctionSpec] = Field(
        description="every name the submission's module must define, keyed by that name; tests may call no other"
    )
    tasks: list[TaskSpec] = Field(
        min_length=1, description="the graded units; the assignment's score is out of the sum of their points"
    )

    dataset: DatasetSpec | None = Field(
        None, description="a labelled dataset the tests train and test with (the dataset fixture)"
    )
    quality: dict[str, QualitySpec] = Field(
        default_factory=dict,
        description="the thresholds of each quality a test scores with grade.quality, by its name; written by "
        "`grader calibrate ASSIGNMENT` between its marker lines, which it rewrites",
    )

    gradescope: GradescopeSpec = Field(
        GradescopeSpec(),
        description="when Gradescope shows students the hidden tests' results (grader release --format gradescope)",
    )

    @model_validator(mode="after")
    def _gradescope_tasks(self) -> AssignmentSpec:
        unknown = set(self.gradescope.task_visibility) - {t.id for t in self.tasks}
        if unknown:
            raise ValueError(f"[gradescope] task_visibility names {sorted(unknown)}, which [[tasks]] does not have")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> AssignmentSpec:
        ids = [t.id for t in self.tasks]
        if len(ids) != len(set(ids)):
            raise ValueError(f"task ids must be unique, got {ids}")
        for task in self.tasks:
            unknown = set(task.functions) - set(self.functions)
            if unknown:
                raise ValueError(f"task {task.id!r} grades {sorted(unknown)}, which [functions] does not declare")
        if set(self.tolerance) != {"float32", "float64"}:
            raise ValueError("[tolerance] needs both float32 and float64")
        return self

    def budget(self, time_limit: float | None = None) -> float:
        """The seconds all tests of one submission may take, for a per-test limit of ``time_limit`` (a command-line
        override scales the budget with it)."""
        limit = time_limit or self.time_limit
        return (self.time_budget or BUDGET_FACTOR * self.time_limit) * limit / self.time_limit

    def task(self, task_id: str) -> TaskSpec:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tasks)


class CourseSpec(Strict):
    """``assignments/course.toml``."""

    title: str = Field(
        description="the course's title, as the student bundle's README shows it; it also seeds the public tests' "
        "inputs, so changing it changes them"
    )
    seed: str | None = Field(
        None,
        description="the course's secret, at least 128 random bits as hex digits (`grader new-seed` makes one): with a "
        "fresh nonce it gives each attempt its own hidden inputs; never released to students",
    )
    public_tests: dict[str, list[str]] | None = Field(
        None,
        description="in a released student bundle: each assignment's public test files (relative to its "
        "tests/public/) as released; a bundle grading itself collects these and no other file",
    )
    hidden_values: HiddenValues = Field(
        "rounded",
        description="what a failed hidden test shows of the expected value: 'rounded' to fewer significant digits "
        "than a pass needs (at most 3, fewer where those would pass the check's tolerance; exact values such as ints "
        "and shapes in full), with its errors to one digit; 'none', no expected value at all; or 'full'. Public "
        "tests always show full values",
    )

    @field_validator("seed", mode="before")
    @classmethod
    def _strong(cls, seed: object) -> object:
        """Refuse a secret a student could guess or search for: anything short of 128 random bits."""
        if seed is None or (isinstance(seed, str) and re.fullmatch(SECRET_PATTERN, seed) and int(seed, 16) >> 96):
            return seed
        raise ValueError(
            f"seed = {seed!r} is not a secret of at least 128 bits (32 or more hex digits); make one with "
            "`grader new-seed` and paste its line here"
        )

    def seed_for(self, which: Literal["public", "hidden"], path: Path) -> str:
        """The secret of a run: hidden tests need the course's own; public tests take :func:`public_seed`."""
        if which == "public":
            return public_seed(self.title)
        if self.seed is None:
            raise SpecError(f"{path}: no seed, so the hidden tests cannot run; add the line `grader new-seed` prints")
        return self.seed


SECRET_PATTERN = r"[0-9a-f]{32,}"
ATTEMPT_PATTERN = r"[0-9a-f]{32}"
"""An attempt's seed: 128 bits as hex digits."""


def new_secret() -> str:
    """A course secret that :meth:`CourseSpec._strong` accepts: 128 random bits (drawn again in the one case in 2^32
    that they would start with 32 zero bits)."""
    while not int(secret := secrets.token_hex(16), 16) >> 96:
        pass
    return secret


def attempt_seed(secret: str, nonce: str | None = None) -> str:
    """The seed of one attempt's hidden inputs, from the course's secret and a nonce (fresh unless given): a table of
    what an attempt's feedback showed is worth nothing in the next one, and the seed tells nothing of the secret."""
    nonce = nonce if nonce is not None else secrets.token_hex(16)
    return hashlib.sha256(f"attempt {nonce} of {secret}".encode()).hexdigest()[:32]


def public_seed(title: str) -> str:
    """The public tests' seed, from the course's title alone: a bundle released from the course has the same, so the
    instructor reproduces a student's public report, and it tells nothing of the secret seed."""
    return hashlib.sha256(f"public tests of {title}".encode()).hexdigest()[:32]


class SpecError(Exception):
    """A course file is missing or malformed; the message names the file and the fix."""


def read_toml(path: Path, model: type[Strict]) -> Strict:
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as e:
        raise SpecError(f"{path}: file not found") from e
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML ({e}); fix the syntax") from e
    except ValidationError as e:
        raise SpecError(f"{path}: {e.error_count()} invalid field(s):\n{e}") from e


class Assignment:
    """One assignment's folder: spec, handout, tests and mistake catalogue."""

    def __init__(
        self, folder: Path, released_tests: list[str] | None = None, hidden_values: HiddenValues = "rounded"
    ) -> None:
        self.folder = folder
        self.released_tests = released_tests
        self.hidden_values = hidden_values
        """The course's ``hidden_values``: what its hidden tests show of expected values."""
        self.spec: AssignmentSpec = read_toml(folder / "assignment.toml", AssignmentSpec)  # type: ignore[assignment]
        if self.spec.name != folder.name:
            raise SpecError(
                f"{folder / 'assignment.toml'}: name is {self.spec.name!r} but the folder is "
                f"{folder.name!r}; they must be the same module stem"
            )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def handout(self) -> Path:
        return self.folder / "handout.md"

    def tests_dir(self, which: Literal["public", "hidden"]) -> Path:
        return self.folder / "tests" / which

    def test_files(self, which: Literal["public", "hidden"]) -> tuple[Path, ...]:
        """What pytest collects: the tests folder, or in a student bundle only the public test files it was
        released with (a file the student added is never collected; a released one must be a regular file)."""
        folder = self.tests_dir(which)
        if which == "hidden" or self.released_tests is None:
            return (folder,)
        files = tuple(folder / name for name in self.released_tests)
        for file in files:
            if file.is_symlink() or not file.is_file() or folder not in file.parents:
                raise SpecError(f"{file}: a released public test, missing or not a regular file; restore it")
        return files


class Course:
    """The folder holding ``assignments/`` and, for instructors, ``reference/``.

    ``bundle``: a released student bundle grading itself (``grader run . --public``): only the public test files it
    was released with are collected, and nothing else of it is imported (no reference, no mistake catalogue).
    """

    def __init__(self, root: Path, bundle: bool = False) -> None:
        self.root = root.resolve()
        self.bundle = bundle
        self.assignments_dir = self.root / "assignments"
        self.reference_dir = self.root / "reference"
        if not self.assignments_dir.is_dir():
            raise SpecError(f"{self.root}: no assignments/ folder; point --course (or GRADER_COURSE) at a course")

    @cached_property
    def spec(self) -> CourseSpec:
        spec: CourseSpec = read_toml(self.assignments_dir / "course.toml", CourseSpec)  # type: ignore[assignment]
        if self.bundle and spec.public_tests is None:
            raise SpecError(
                f"{self.assignments_dir / 'course.toml'}: not a released bundle's course (no public_tests); grade "
                "with --course pointing at the course instead"
            )
        return spec

    @cached_property
    def assignments(self) -> dict[str, Assignment]:
        found = sorted(p.parent for p in self.assignments_dir.glob("*/assignment.toml"))
        released = self.spec.public_tests if self.bundle else None
        if released is not None:
            found = [folder for folder in found if folder.name in released]
        return {
            folder.name: Assignment(
                folder, released[folder.name] if released is not None else None, self.spec.hidden_values
            )
            for folder in found
        }

    def assignment(self, name: str) -> Assignment:
        try:
            return self.assignments[name]
        except KeyError:
            raise SpecError(
                f"no assignment {name!r} in {self.assignments_dir}; known: {', '.join(self.assignments)}"
            ) from None

    def reference_module(self, name: str) -> Path:
        return self.reference_dir / f"{name}.py"

    def check(self, names: list[str]) -> None:
        """Refuse (:class:`SpecError`, naming the file and the fix) a course that cannot grade ``names``: its
        settings, each assignment's spec, hidden tests and reference (without importing any of them)."""
        self.spec  # noqa: B018  (read and validated on first use)
        for name in names:
            assignment = self.assignment(name)
            tests = assignment.tests_dir("hidden")
            if not any(tests.glob("test_*.py")):
                raise SpecError(f"{tests}: no test_*.py file; an assignment needs hidden tests to be graded")
            if not self.bundle and not self.reference_module(name).is_file():
                raise SpecError(
                    f"{self.reference_module(name)}: missing; every assignment needs its reference solution"
                )

    def lies_within(self, submission: Path) -> bool:
        """Whether this course's folder is the folder ``submission`` or inside it: a course the submission controls."""
        folder = submission.resolve()
        return self.root == folder or folder in self.root.parents


def default_course() -> Course:
    """``$GRADER_COURSE``, else the checkout this package runs from, when it holds a course (an installed grader's
    site-packages does not). Never a submission: a student bundle grades itself only when asked
    (:func:`bundle_course`)."""
    env = os.environ.get("GRADER_COURSE")
    if env:
        return Course(Path(env))
    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "assignments").is_dir():
        raise SpecError(
            f"no course given, and grader is installed in {checkout}, which holds none: give --course DIR (the "
            "folder holding the course's assignments/) or set GRADER_COURSE; in a student bundle, run grader run . "
            "--public"
        )
    return Course(checkout)


def bundle_course(submission: Path) -> Course | None:
    """The course of a released student bundle at ``submission`` (``grader run . --public``), or None when it is
    not one."""
    toml = submission / "assignments" / "course.toml"
    if toml.is_symlink() or not toml.is_file():
        return None
    return Course(submission, bundle=True)
