"""The pull-request comment: the markdown report under a marker, so that the workflow finds and updates its own
comment on every push instead of adding another."""

from __future__ import annotations

from grader.formats import markdown
from grader.results import GradingReport

MARKER = "<!-- grader-feedback -->"
LIMIT = 65_000  # GitHub refuses comments over 65,536 characters
CUT = "\n\n*The feedback was cut here: it is too long for a comment. The job summary has all of it.*\n"


def comment_body(report: GradingReport) -> str:
    """The marker, then the markdown report, cut to fit in one comment."""
    body = f"{MARKER}\n{markdown.render(report)}"
    return body if len(body) <= LIMIT else body[: LIMIT - len(CUT)] + CUT


def error_body(message: str) -> str:
    """The comment when the submission could not be graded at all: ``message``, escaped, says why."""
    return f"{MARKER}\n{markdown.not_graded(message, 'Your pull request could not be graded')}"
