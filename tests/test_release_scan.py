"""The leak scan every released file goes through, and proof that it finds what it looks for.

A secret is what only the instructor has: a line of code inside a reference's solution regions, of a hidden test
or of a mistake catalogue (when no public file has the same line; a file leaks it when one of its lines is that
line), the course's seed, and the taxonomy's answer key. Files are read as text, notebooks by their cells,
archives (the shipped wheel) member by member.
"""

from __future__ import annotations

import functools
import io
import re
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, load_reference

from grader.starter import strip_solutions

REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?$(.*?)^[ \t]*### END SOLUTION", re.MULTILINE | re.DOTALL)
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.toml"))
MIN_LENGTH = 16  # shorter lines (``return h``, ``h = h0``) are too common to be anyone's secret


def code_lines(text: str) -> set[str]:
    """The stripped lines of ``text`` long enough to be distinctive, comments left out."""
    lines = (line.strip() for line in text.splitlines())
    return {line for line in lines if len(line) >= MIN_LENGTH and not line.startswith("#")}


@functools.cache
def public_lines() -> frozenset[str]:
    """Every line students get anyway: handouts, public tests, assignment.toml, the starters, the grader itself (its
    wheel: the code and the package data, such as ``grader new``'s templates)."""
    lines: set[str] = set()
    for path in (ROOT / "grader").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            lines |= code_lines(path.read_text(encoding="utf-8"))
    for name in ASSIGNMENTS:
        folder = ROOT / "assignments" / name
        for path in [folder / "handout.md", folder / "assignment.toml", *(folder / "tests" / "public").rglob("*.py")]:
            lines |= code_lines(path.read_text(encoding="utf-8"))
        lines |= code_lines(strip_solutions((ROOT / "reference" / f"{name}.py").read_text(encoding="utf-8")))
    return frozenset(lines)


@functools.cache
def secret_lines() -> dict[str, str]:
    """Each secret line, with where it comes from."""
    secrets: dict[str, str] = {}
    for name in ASSIGNMENTS:
        reference = ROOT / "reference" / f"{name}.py"
        for region in REGION.findall(reference.read_text(encoding="utf-8")):
            secrets |= dict.fromkeys(code_lines(region), f"a solution line of {reference.name}")
        folder = ROOT / "assignments" / name
        for path in [*(folder / "tests" / "hidden").rglob("*.py"), folder / "mistakes.py"]:
            if path.is_file():
                secrets |= dict.fromkeys(code_lines(path.read_text(encoding="utf-8")), f"a line of {path.name}")
    return {line: where for line, where in secrets.items() if line not in public_lines()}


def seed() -> str:
    return str(tomllib.loads((ROOT / "assignments" / "course.toml").read_text(encoding="utf-8"))["seed"])


def answer_key() -> list[re.Pattern[str]]:
    """The taxonomy's answers, each as a ``"problem": "kind"`` pair in any quoting."""
    kinds = load_reference("taxonomy").PROBLEM_KINDS
    return [re.compile(rf"""["']{problem}["']\s*:\s*["']{kind}["']""") for problem, kind in kinds.items()]


def texts(path: Path, data: bytes) -> Iterator[tuple[str, str]]:
    """The text of a file, with a label: a notebook's cells, an archive's members, else the file itself."""
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from texts(path / member, archive.read(member))
        return
    text = data.decode("utf-8", errors="replace")
    yield str(path), text
    if path.suffix == ".ipynb":
        yield f"{path} (cells)", "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)


def leaks(folder: Path) -> list[str]:
    """Every secret found in the files under ``folder``: what, and where."""
    secrets, found = secret_lines(), []
    patterns = [re.compile(re.escape(seed())), *answer_key()]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        names = path.relative_to(folder).parts
        if "hidden" in names or path.name == "mistakes.py" or "reference" in names:
            found.append(f"{path}: an instructor's file")
        for label, text in texts(path.relative_to(folder), path.read_bytes()):
            lines = {line.strip() for line in text.splitlines()}
            found += [f"{label}: {secrets[line]}: {line!r}" for line in sorted(lines & secrets.keys())]
            found += [f"{label}: the seed or the answer key ({p.pattern})" for p in patterns if p.search(text)]
    return found


def test_there_are_secrets_to_look_for():
    """Each module's solution regions and hidden tests leave distinctive lines that no public file has."""
    secrets = secret_lines()
    for name in ASSIGNMENTS:
        assert sum(where == f"a solution line of {name}.py" for where in secrets.values()) >= 3, name
        assert any(where.startswith(f"a line of test_{name}") for where in secrets.values()), name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_scan_finds_the_instructors_files(name, tmp_path):
    for source in [ROOT / "reference" / f"{name}.py", *(ROOT / "assignments" / name / "tests" / "hidden").glob("*.py")]:
        (tmp_path / f"copy_of_{source.name}").write_bytes(source.read_bytes())
    found = leaks(tmp_path)
    assert any(f"copy_of_{name}.py" in f and "solution line" in f for f in found)
    assert any("copy_of_test_" in f and "a line of test_" in f for f in found)


def test_the_scan_finds_the_seed_the_answer_key_and_secrets_in_archives(tmp_path):
    (tmp_path / "course.toml").write_text(f"title = 'x'\nseed = {seed()}\n")
    with zipfile.ZipFile(tmp_path / "pkg.whl", "w") as archive:
        archive.writestr("pkg/taxonomy.py", (ROOT / "reference" / "taxonomy.py").read_text(encoding="utf-8"))
    found = leaks(tmp_path)
    assert any(f.startswith("course.toml: the seed") for f in found)
    assert any(f.startswith("pkg.whl/pkg/taxonomy.py: the seed or the answer key") for f in found)
    assert any(f.startswith("pkg.whl/pkg/taxonomy.py: a solution line of taxonomy.py") for f in found)


def test_the_scan_reads_notebook_cells(tmp_path):
    reference = (ROOT / "reference" / "gated_cells.py").read_text(encoding="utf-8")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)]), tmp_path / "n.ipynb")
    assert any(f.startswith("n.ipynb (cells): a solution line of gated_cells.py") for f in leaks(tmp_path))


def test_public_material_holds_no_secret(tmp_path):
    """The scan has no false alarm on what students are meant to get."""
    for name in ASSIGNMENTS:
        folder = ROOT / "assignments" / name
        for path in [folder / "handout.md", *(folder / "tests" / "public").glob("*.py")]:
            (tmp_path / f"{name}_{path.name}").write_bytes(path.read_bytes())
        starter = strip_solutions((ROOT / "reference" / f"{name}.py").read_text(encoding="utf-8"))
        (tmp_path / f"{name}.py").write_text(starter, encoding="utf-8")
    assert leaks(tmp_path) == []
