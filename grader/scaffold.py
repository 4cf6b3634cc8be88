"""``grader new ASSIGNMENT``: a new assignment, laid out as the course's others are.

It writes ``assignments/<name>/`` (``assignment.toml`` with one function and one task, ``handout.md``, a public and a
hidden test file, an empty mistake catalogue) and ``reference/<name>.py``, from ``grader/templates/scaffold``. Their
example, an affine map, is complete: ``grader validate <name>`` accepts it as it is, and again once the instructor has
replaced it with the assignment's own functions. A course finds its assignments by their ``assignment.toml``, so the
new one is part of the course at once.
"""

from __future__ import annotations

import importlib.machinery
import json
import keyword
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console

from grader import exits
from grader.options import course_option, load_course
from grader.release.resources import render
from grader.spec import Course, SpecError

NAME = re.compile(r"[a-z][a-z0-9_]*")
"""An assignment's name: the stem of the module a submission hands in."""

TEMPLATES = {
    "assignments/{name}/assignment.toml": "assignment.toml.j2",
    "assignments/{name}/handout.md": "handout.md.j2",
    "assignments/{name}/mistakes.py": "mistakes.py.j2",
    "assignments/{name}/tests/public/test_{name}_public.py": "test_public.py.j2",
    "assignments/{name}/tests/hidden/test_{name}_hidden.py": "test_hidden.py.j2",
    "reference/{name}.py": "reference.py.j2",
}
"""Each file of a new assignment, relative to the course, and its template in ``grader/templates/scaffold``."""


def shadows_a_module(name: str) -> bool:
    """Whether a submission's module ``name`` would stand for a module grading imports (the sandbox's worker imports a
    submission under its own name): one of Python's, or one installed. The current folder is not searched."""
    if name in sys.stdlib_module_names:
        return True
    here = {"", os.getcwd()}
    return importlib.machinery.PathFinder.find_spec(name, [p for p in sys.path if p not in here]) is not None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an assignment, with the fix; None when it can."""
    if not NAME.fullmatch(name):
        return (
            f"{name!r} is not a module name: use lowercase letters, digits and underscores, starting with a letter "
            "(e.g. lstm_peephole)"
        )
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword, which no module can be named; pick another name"
    if shadows_a_module(name):
        return (
            f"{name!r} is the name of a module of Python's or an installed one, which {name}.py would hide; "
            "pick another name"
        )
    return None


def scaffold_files(name: str, title: str) -> dict[str, str]:
    """A new assignment's files, by their path relative to the course."""
    values = {"assignment": name, "title": title, "title_toml": json.dumps(title, ensure_ascii=False)}
    return {path.format(name=name): render(f"scaffold/{template}", **values) for path, template in TEMPLATES.items()}


def write_scaffold(course: Course, name: str, title: str) -> list[Path]:
    """Write assignment ``name`` into ``course``; refuse (:class:`SpecError`) to touch a file that exists, and leave
    nothing behind when a file cannot be written."""
    folder, reference = course.assignments_dir / name, course.reference_module(name)
    for taken in (folder, reference):
        if os.path.lexists(taken):
            raise SpecError(f"{taken}: already exists; choose another name for the new assignment, or remove it")
    written = []
    for relative, text in scaffold_files(name, title).items():
        path = course.root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as file:
                written.append(path)
                file.write(text)
        except OSError as error:
            shutil.rmtree(folder, ignore_errors=True)
            if reference in written:
                reference.unlink()
            raise SpecError(
                f"{path}: cannot be written ({error.strerror}), so nothing was added; make {path.parent} a writable "
                "folder and run grader new again"
            ) from error
    return written


@click.command()
@click.argument("assignment")
@click.option("--title", help="The assignment's title, for reports and the handout (default: made from its name).")
@course_option
def new(assignment: str, title: str | None, course: Path | None) -> None:
    """Scaffold ASSIGNMENT (a module name, e.g. lstm_peephole): assignments/ASSIGNMENT/ with its assignment.toml,
    handout, public and hidden tests and an empty mistake catalogue, and reference/ASSIGNMENT.py. Its example passes
    `grader validate ASSIGNMENT` as it is; replace it with the assignment's own functions, then validate again."""
    problem = name_problem(assignment)
    if problem:
        exits.fail(problem)
    title = title if title is not None else assignment.replace("_", " ").capitalize()
    if not title.strip() or not title.isprintable():
        exits.fail(f"--title {title!r}: give the title as one line of text")
    try:
        loaded = load_course(course)
        loaded.spec  # noqa: B018  (the course's own file must be readable before anything is added to it)
        written = write_scaffold(loaded, assignment, title)
    except SpecError as error:
        exits.fail(str(error))
    console = Console(highlight=False)
    console.print(f"new assignment {assignment} in {loaded.root}:", markup=False)
    for path in written:
        console.print(f"  {path.relative_to(loaded.root)}", markup=False)
    validate = f"grader validate {assignment}" + (f" --course {shlex.quote(str(course))}" if course else "")
    console.print(
        f"Its example function, affine, is in each of these files: replace it with the assignment's own (docs/"
        f"writing-tests.md, docs/assignment-toml.md, docs/catalogue.md), then run `{validate}`. Every grader run and "
        f"batch of this course now expects {assignment} from each student too.",
        markup=False,
    )
