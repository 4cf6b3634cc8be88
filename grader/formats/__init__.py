"""Every output format of a :class:`GradingReport`, by name: the choices of the CLI's ``--format``."""

from __future__ import annotations

from collections.abc import Callable

from grader.formats import gradescope, html, json, junit, markdown, text
from grader.results import GradingReport

FORMATS: dict[str, Callable[[GradingReport], str]] = {
    "text": text.render,
    "markdown": markdown.render,
    "html": html.render,
    "json": json.render,
    "junit": junit.render,
    "gradescope": gradescope.render,
}


def render(report: GradingReport, fmt: str) -> str:
    """``report`` in the format named ``fmt`` (a key of :data:`FORMATS`)."""
    try:
        formatter = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return formatter(report)
