"""What grading one student's submission in a batch came to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from grader.feedback import SafeText
from grader.results import GradingReport


class Outcome(BaseModel):
    """One student's result in a batch: a report, or the reason there is none."""

    student: SafeText = Field(description="the student's id: the entry's name in the submissions folder")
    source: SafeText = Field(description="the folder or archive the submission came from")
    content_hash: str = Field(description="sha256 over the names and contents of the submission's module files")
    status: Literal["graded", "incomplete", "error"] = Field(
        description="graded; incomplete (some tests could not run: not counted, retried next time); or error"
    )
    reason: SafeText | None = Field(None, description="why the submission could not be graded")
    report: GradingReport | None = None
    duration: float = 0.0
    expected: list[str] = Field(default_factory=list, description="the assignments the submission was graded for")
    fingerprint: str = Field("", description="what the grade was made of: grader.fingerprint.course_fingerprint")
    course_errors: list[str] = Field(
        default_factory=list,
        exclude=True,
        description="for the instructor only: tracebacks of what the course or the grader failed on (not stored)",
    )

    @property
    def percent(self) -> float:
        return self.report.percent if self.report else 0.0
