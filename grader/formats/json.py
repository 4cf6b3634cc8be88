"""The report's full model as JSON, with the totals a consumer would otherwise recompute."""

from __future__ import annotations

import json
from typing import Any

from grader.escape import safe_text
from grader.formats.summary import percent
from grader.results import GradingReport


def totals(score: float, max_score: float) -> dict[str, float]:
    """``score``, ``max_score`` and ``percent`` as JSON fields."""
    return {"score": score, "max_score": max_score, "percent": percent(score, max_score)}


def safe(value: Any) -> Any:
    """``value`` with each string in it as safe text: a lone surrogate would make the JSON invalid for a strict
    parser."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {key: safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [safe(item) for item in value]
    return value


def render(report: GradingReport) -> str:
    """``report.model_dump(mode="json")`` plus score, max_score and percent for the report and each assignment."""
    data: dict[str, Any] = report.model_dump(mode="json") | totals(report.score, report.max_score)
    for assignment, dumped in zip(report.assignments, data["assignments"], strict=True):
        dumped |= totals(assignment.score, assignment.max_score)
    return json.dumps(safe(data), indent=2)
