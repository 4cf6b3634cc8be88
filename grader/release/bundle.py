"""The student bundle: a folder a student works in, and that ``grader run . --public`` grades as its own course.

Layout: the starter modules at the root, their notebooks in ``notebooks/``, ``assignments/course.toml`` (the title,
no seed) and ``assignments/<name>/{assignment.toml, handout.md, signatures.toml, tests/public/...}``, a README, a
``.gitignore``, the CI workflow in ``.github/workflows/`` and the grader's wheel and constraints in ``.grader/``.
Never a hidden test, a reference solution, a mistake catalogue or the seed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader import dataset
from grader.release.contents import public_files, reference, student_course_toml
from grader.release.errors import ReleaseError
from grader.release.notebooks import starter_notebook, write_notebook
from grader.release.resources import render, template_text
from grader.release.wheel import constraints_file, copy_wheel
from grader.release.workflows import WORKFLOWS, Workflow
from grader.signatures import FILE, contract_functions, reference_parameters, signatures_toml
from grader.spec import Course
from grader.starter import write_starter

GITIGNORE = ".venv/\n__pycache__/\n"
"""What a student's repository never commits: the virtual environment the README makes, Python's caches."""


def empty_folder(out: Path) -> None:
    """Create ``out``, refusing to write into a folder that already holds files (a student's work, maybe)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out}: exists and is not an empty folder; give a new folder to --out")
    out.mkdir(parents=True, exist_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_bundle(course: Course, names: list[str], out: Path, wheel: Path | None, workflow: Workflow) -> list[Path]:
    """Write the student bundle of assignments ``names`` into the new folder ``out``; the files written."""
    empty_folder(out)
    shipped = copy_wheel(wheel, out / ".grader")  # first: a release that cannot ship grader leaves the folder empty
    written = [shipped, Path(shutil.copy2(constraints_file(), out / ".grader" / "constraints.txt"))]
    written.append(write_text(out / "assignments" / "course.toml", student_course_toml(course, names)))
    for name in names:
        assignment = course.assignment(name)
        for file in public_files(course, name):
            target = out / "assignments" / name / file.relative_to(assignment.folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(Path(shutil.copy2(file, target)))
        if assignment.spec.dataset is not None:  # its training part, split by the course's secret: never the test part
            secret = course.spec.seed_for("hidden", course.assignments_dir / "course.toml")
            text = dataset.training_csv(assignment.folder, assignment.spec.dataset, secret)
            path = out / "assignments" / name / dataset.training_file(assignment.spec.dataset)
            written.append(write_text(path, text))
        parameters = reference_parameters(reference(course, name), contract_functions(assignment.spec))
        written.append(write_text(out / "assignments" / name / FILE, signatures_toml(parameters)))
        written.append(write_starter(reference(course, name), out / f"{name}.py"))
        notebook = starter_notebook(assignment, reference(course, name))
        written.append(write_notebook(notebook, out / "notebooks" / f"{name}.ipynb"))
    files = WORKFLOWS[workflow]  # never Classroom's own classroom.yml: see grader/release/workflows.py
    written.append(write_text(out / ".github" / "workflows" / files.shipped, template_text(files.template)))
    readme = render(
        "student-readme.md.j2",
        title=course.spec.title,
        assignments=[course.assignment(n) for n in names],
        wheel=shipped.name,
        workflow=workflow,
        workflow_file=files.shipped,
    )
    written.append(write_text(out / "README.md", readme))
    written.append(write_text(out / ".gitignore", GITIGNORE))
    return written
