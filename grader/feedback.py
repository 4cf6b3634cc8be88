"""Structured feedback on one failed test: what the student reads and every output format carries."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from grader.escape import safe_text

SafeText = Annotated[str, AfterValidator(safe_text)]
"""Text a report holds: made valid and free of control characters when the model is built (a student's output,
exception or file name may carry a lone surrogate or a terminal escape), so no report can fail to serialise."""

FeedbackKind = Literal[
    "missing",  # the function or constant is not defined
    "import",  # the module failed to import
    "signature",  # the function does not take the contract's arguments
    "not_implemented",  # the function raises NotImplementedError
    "exception",  # the function raised
    "timeout",  # the call ran past its time limit
    "resources",  # the call ran out of memory or another resource
    "type",
    "shape",
    "dtype",
    "nonfinite",
    "value",
    "mutation",  # an argument was modified in place
    "rule",  # a rule of the contract was broken (autograd, torch recurrent modules, ...)
    "sandbox",  # the worker itself failed: never the student's fault
    "error",  # the test itself failed unexpectedly
]
HiddenValues = Literal["rounded", "none", "full"]
"""How a hidden test's feedback shows the expected values: see :meth:`Feedback.for_hidden_test`."""


class Generic(StrEnum):
    """The mistakes any assignment's code can make, by stable id: a failure that is one carries the id as its
    ``diagnosis``, as a catalogued mistake does, so every machine-readable format reports it."""

    DTYPE = "generic.dtype"  # a result of another dtype than the inputs' (float32 returned for float64 inputs)
    LIST_FOR_TENSOR = "generic.list_for_tensor"  # a list or tuple where the contract returns a tensor
    TENSOR_FOR_NUMBER = "generic.tensor_for_number"  # a tensor where the contract returns a Python number
    ALIASED_STEPS = "generic.aliased_steps"  # every step of a sequence is its last: one tensor appended T times
    MUTATION = "generic.mutation"  # an argument modified in place
    RULE = "generic.rule"  # a rule of the contract broken (autograd, torch's recurrent modules, ...)


GENERIC_KINDS: dict[str, Generic] = {"dtype": Generic.DTYPE, "mutation": Generic.MUTATION, "rule": Generic.RULE}
"""The kinds of failure that are a generic mistake by themselves."""
VALUE_KINDS = ("value", "nonfinite")
"""The kinds of failure whose ``expected`` is a value the student must compute, not a type or shape of the contract."""


class Feedback(BaseModel):
    """Why a test failed, as specifically as the grader can say it."""

    kind: FeedbackKind
    message: SafeText
    function: SafeText | None = None
    output: SafeText | None = None
    got: SafeText | None = None
    expected: SafeText | None = None
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    worst_index: list[int] | None = None
    expected_rounded: SafeText | None = Field(
        None,
        exclude=True,
        description="the expected value rounded so that a copy of it fails the check: what a hidden test shows",
    )
    inputs: SafeText | None = None
    case_seed: int | None = Field(None, description="the seed of the test's inputs; never shown for a hidden test")
    equation: SafeText | None = None
    traceback: SafeText | None = None
    exception: SafeText | None = Field(None, description="the type name of the exception the student's code raised")
    credit: float | None = Field(
        None,
        ge=0.0,
        lt=1.0,
        description="the share of the test's points it still earns, where a test scores between two thresholds "
        "(a trained model's accuracy); None: none",
    )
    diagnosis: SafeText | None = Field(
        None,
        description="the id of the mistake: the catalogued one the output matches best, or a generic one "
        "(generic.dtype, ...: see Generic)",
    )
    explanation: SafeText | None = Field(None, description="the sentence that names the mistake to the student")
    matches: list[SafeText] = Field(default_factory=list, description="every catalogued mistake the output matches")

    @model_validator(mode="after")
    def _generic(self) -> Feedback:
        """A failure of a kind that is a generic mistake by itself carries that mistake's id."""
        if self.diagnosis is None and self.kind in GENERIC_KINDS:
            self.diagnosis = GENERIC_KINDS[self.kind].value
        return self

    def value_line(self) -> str | None:
        """The line of a wrong value: the worst element's, or the value's, with the expected one when it is shown."""
        if self.kind not in VALUE_KINDS or self.got is None:
            return None
        where = f"worst element at index {tuple(self.worst_index)}: " if self.worst_index is not None else ""
        expected = f", expected {self.expected}" if self.expected is not None else ""
        return f"{where}got {self.got}{expected}"

    def render(self) -> str:
        """The feedback as plain text lines, message first."""
        lines = [self.message]
        if self.explanation:
            lines.append(self.explanation)
        if line := self.value_line():
            lines.append(line)
        if self.max_abs_error is not None:
            rel = f", largest relative error {self.max_rel_error:.3g}" if self.max_rel_error is not None else ""
            lines.append(f"largest absolute error {self.max_abs_error:.3g}{rel}")
        if self.inputs:
            seed = f" (case seed {self.case_seed})" if self.case_seed is not None else ""
            lines.append(f"inputs: {self.inputs}{seed}")
        if self.equation:
            lines.append(f"see: {self.equation}")
        if self.traceback:
            lines.append(self.traceback.rstrip())
        return "\n".join(lines)

    def for_hidden_test(self, values: HiddenValues) -> Feedback:
        """This feedback as a hidden test shows it: without the case seed, and with the expected value of a wrong value
        ``"rounded"`` (a floating-point one to fewer digits than a pass needs, its errors to one digit, so that the
        feedback never hands out a passing answer), left out (``"none"``), or in ``"full"``."""
        update: dict[str, object] = {"case_seed": None, "expected_rounded": None}
        if self.kind in VALUE_KINDS and values != "full":
            update["expected"] = (self.expected_rounded or self.expected) if values == "rounded" else None
            update["max_abs_error"] = one_digit(self.max_abs_error)
            update["max_rel_error"] = one_digit(self.max_rel_error)
        return self.model_copy(update=update)


def one_digit(error: float | None) -> float | None:
    """``error`` to one significant digit."""
    return None if error is None else float(f"{error:.1g}")


class GradingFailure(AssertionError):
    """A test's verdict that the submission is wrong, carrying the feedback that says why."""

    def __init__(self, feedback: Feedback) -> None:
        super().__init__(feedback.message)
        self.feedback = feedback
