"""Structured feedback on one failed test: what the student reads and every output format carries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

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
    inputs: SafeText | None = None
    equation: SafeText | None = None
    traceback: SafeText | None = None
    exception: SafeText | None = Field(None, description="the type name of the exception the student's code raised")
    diagnosis: SafeText | None = Field(None, description="the id of the catalogued mistake the output matches best")
    explanation: SafeText | None = Field(None, description="the sentence that names the mistake to the student")
    matches: list[SafeText] = Field(default_factory=list, description="every catalogued mistake the output matches")

    def render(self) -> str:
        """The feedback as plain text lines, message first."""
        lines = [self.message]
        if self.explanation:
            lines.append(self.explanation)
        if self.worst_index is not None:
            lines.append(f"worst element at index {tuple(self.worst_index)}: got {self.got}, expected {self.expected}")
        if self.max_abs_error is not None:
            rel = f", largest relative error {self.max_rel_error:.3g}" if self.max_rel_error is not None else ""
            lines.append(f"largest absolute error {self.max_abs_error:.3g}{rel}")
        if self.inputs:
            lines.append(f"inputs: {self.inputs}")
        if self.equation:
            lines.append(f"see: {self.equation}")
        if self.traceback:
            lines.append(self.traceback.rstrip())
        return "\n".join(lines)


class GradingFailure(AssertionError):
    """A test's verdict that the submission is wrong, carrying the feedback that says why."""

    def __init__(self, feedback: Feedback) -> None:
        super().__init__(feedback.message)
        self.feedback = feedback
