"""The files a release ships from ``grader/templates``: static ones as they are, ``*.j2`` ones rendered."""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from grader.formats.summary import points

ENVIRONMENT = Environment(
    loader=PackageLoader("grader", "templates"),
    autoescape=False,  # Markdown and shell, never HTML
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["points"] = points


def template_text(name: str) -> str:
    """The text of ``grader/templates/<name>``, a file shipped as it is."""
    return (resources.files("grader") / "templates" / name).read_text(encoding="utf-8")


def render(name: str, **values: Any) -> str:
    """``grader/templates/<name>`` (a Jinja2 template) rendered with ``values``."""
    return ENVIRONMENT.get_template(name).render(**values)
