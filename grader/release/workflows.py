"""The CI workflows a student bundle can ship, by mode: each one's template in ``grader/templates`` and the name it
is shipped under in ``.github/workflows/``.

The Classroom workflow is never shipped as ``classroom.yml``: that is the file GitHub Classroom's UI writes into the
template and every student repository when an instructor adds autograding tests there, so the two would overwrite
each other. Classroom writes no other workflow file, so ``grader-autograding.yml`` cannot clash with it.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Workflow = Literal["classroom", "course"]


class WorkflowFile(NamedTuple):
    """A workflow's template and the file name it is shipped under."""

    template: str
    shipped: str


WORKFLOWS: dict[Workflow, WorkflowFile] = {
    "classroom": WorkflowFile("classroom.yml", "grader-autograding.yml"),
    "course": WorkflowFile("course-pull-request.yml", "course-pull-request.yml"),
}
