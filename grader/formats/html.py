"""The report as one self-contained HTML page (inline CSS, no external assets).

Every value a template prints is escaped (autoescape) after it is made safe text (:func:`finalize`); the
templates mark nothing safe.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.escape import safe_text
from grader.formats.summary import failures, feedback_text, passed, percent, points, printed, task_label
from grader.results import GradingReport


def finalize(value: object) -> object:
    """A value a template prints: a string as safe text, before autoescape escapes it; markup as it is."""
    return safe_text(value) if isinstance(value, str) and not hasattr(value, "__html__") else value


ENVIRONMENT = Environment(
    loader=PackageLoader("grader", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    finalize=finalize,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["points"] = points
ENVIRONMENT.globals.update(
    failures=failures,
    feedback_text=feedback_text,
    passed=passed,
    percent=percent,
    printed=printed,
    task_label=task_label,
)


def render(report: GradingReport) -> str:
    """The report rendered with ``templates/report.html.j2``."""
    return ENVIRONMENT.get_template("report.html.j2").render(report=report)
