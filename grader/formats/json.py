"""The report's full model as JSON, with the totals a consumer would otherwise recompute."""

from __future__ import annotations

import json
from typing import Any

from grader.formats.summary import percent
from grader.results import GradingReport


def totals(score: float, max_score: float) -> dict[str, float]:
    """``score``, ``max_score`` and ``percent`` as JSON fields."""
    return {"score": score, "max_score": max_score, "percent": percent(score, max_score)}


def render(report: GradingReport) -> str:
    """``report.model_dump(mode="json")`` plus score, max_score and percent for the report and each assignment."""
    data: dict[str, Any] = report.model_dump(mode="json") | totals(report.score, report.max_score)
    for assignment, dumped in zip(report.assignments, data["assignments"], strict=True):
        dumped |= totals(assignment.score, assignment.max_score)
    return json.dumps(data, indent=2)
