"""The CI workflows a student bundle can ship, by mode, with their files in ``grader/templates``."""

from __future__ import annotations

from typing import Literal

Workflow = Literal["classroom", "course"]
WORKFLOWS: dict[Workflow, str] = {"classroom": "classroom.yml", "course": "course-pull-request.yml"}
