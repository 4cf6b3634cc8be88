"""The documentation holds: the guide to writing tests has a real test, which the reference passes and a wrong cell
fails with the feedback the guide describes; the page on assignment.toml is what the models give; the catalogue
guide's example is proved by grader validate; the student contract documents every function as the reference
defines it, with examples the reference reproduces."""

from __future__ import annotations

import doctest
import inspect
import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import ROOT, load_reference
from pydantic import Field

from grader import docs_command
from grader.cli import main
from grader.mistakes import load_catalogue
from grader.runner import grade_assignment
from grader.spec import Assignment, Strict
from grader.student import LocalStudent, import_module_from

GUIDE = ROOT / "docs" / "writing-tests.md"


def guide_example(tmp_path: Path) -> Assignment:
    """rnn_forward's spec with the guide's first Python example as its only hidden test."""
    example = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert example, f"{GUIDE} has no python example"
    folder = tmp_path / "rnn_forward"
    (folder / "tests" / "hidden").mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "rnn_forward" / "assignment.toml", folder)
    (folder / "tests" / "hidden" / "test_guide.py").write_text(example[1])
    return Assignment(folder)


def test_the_guide_s_example_passes_the_reference_and_fails_a_wrong_cell(tmp_path: Path):
    assignment = guide_example(tmp_path)
    reference = ROOT / "reference" / "rnn_forward.py"
    right = grade_assignment(assignment, LocalStudent(reference), import_module_from(reference), seed=1)
    assert [t.status for t in right.tests] == ["passed", "passed"]
    wrong = tmp_path / "wrong" / "rnn_forward.py"
    wrong.parent.mkdir()
    wrong.write_text(reference.read_text().replace("torch.tanh(", "torch.sigmoid(", 1))
    graded = grade_assignment(assignment, LocalStudent(wrong), import_module_from(reference), seed=1)
    feedback = [t.feedback for t in graded.tests]
    assert all(f and f.kind == "value" and f.function == "rnn_cell" and f.worst_index for f in feedback)
    assert all(f and f.equation and f.equation.startswith("handout eq. (1)") for f in feedback)


# docs/assignment-toml.md: generated from the models, so that it cannot drift from them

PAGE = ROOT / "docs" / "assignment-toml.md"


def test_the_assignment_toml_page_is_what_the_models_give():
    assert PAGE.read_text() == docs_command.page(), f"{PAGE} is out of date: run `{docs_command.REGENERATE}`"


def test_a_field_without_a_description_is_refused_by_name():
    class Undescribed(Strict):
        """``assignments/undescribed.toml``."""

        described: int = Field(0, description="a field with a description")
        bare: int = 0

    with pytest.raises(ValueError, match=r"Undescribed\.bare has no description"):
        docs_command.file_section(Undescribed)


def test_check_exits_1_on_a_stale_page_and_names_the_command(tmp_path: Path):
    page = tmp_path / "assignment-toml.md"
    page.write_text("# an old page\n")
    stale = CliRunner().invoke(docs_command.main, ["--check", "--output", str(page)])
    assert stale.exit_code == 1 and docs_command.REGENERATE in stale.output
    assert CliRunner().invoke(docs_command.main, ["--output", str(page)]).exit_code == 0
    assert CliRunner().invoke(docs_command.main, ["--check", "--output", str(page)]).exit_code == 0


# docs/catalogue.md: its worked example is the catalogue of a scaffolded assignment, which validate proves

CATALOGUE_GUIDE = ROOT / "docs" / "catalogue.md"


def test_the_catalogue_guide_s_example_is_caught_and_named(tmp_path: Path):
    text = CATALOGUE_GUIDE.read_text()
    example = re.search(r"```python\n(.*?)```", text.split("## A worked example")[1], re.DOTALL)
    assert example, f"{CATALOGUE_GUIDE} has no worked example"
    (tmp_path / "assignments").mkdir()
    shutil.copy(ROOT / "assignments" / "course.toml", tmp_path / "assignments")
    assert CliRunner().invoke(main, ["new", "demo", "--course", str(tmp_path)]).exit_code == 0
    (tmp_path / "assignments" / "demo" / "mistakes.py").write_text(example[1])
    result = CliRunner().invoke(main, ["validate", "demo", "--course", str(tmp_path)])
    assert result.exit_code == 0, result.output
    shown = re.search(r"```text\n(.*?)```", text.split("`grader validate` prints:")[1], re.DOTALL)
    assert shown and all(line in result.output for line in shown[1].splitlines())
    # the sentence at the top of the guide is the one the second entry gives
    catalogue = load_catalogue(tmp_path / "assignments" / "demo" / "mistakes.py")
    assert catalogue and catalogue.mistakes["affine_batch_only"].explain("affine") in text


# docs/student-api.md: every function of every assignment.toml, with the reference's signature, the assignment's
# rules, and examples that the reference reproduces

API = ROOT / "docs" / "student-api.md"


def api_sections() -> dict[str, str]:
    """The contract's section of each module, by the module's name."""
    parts = re.split(r"^## \d+\. `(\w+)`.*$", API.read_text(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def returned(outputs: list) -> str:
    """A function's outputs (``[functions.<fn>] outputs``) as the contract writes what it returns."""
    names = [name if isinstance(name, str) else f"({', '.join(name)})" for name in outputs]
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def parameter(p: inspect.Parameter) -> str:
    """A parameter as the contract writes it: its name, and its default as Python writes it (strings in double
    quotes)."""
    if p.default is p.empty:
        return p.name
    return f"{p.name}={json.dumps(p.default) if isinstance(p.default, str) else repr(p.default)}"


def signature(function: Callable, outputs: list) -> str:
    parameters = ", ".join(parameter(p) for p in inspect.signature(function).parameters.values())
    return f"{function.__name__}({parameters}) -> {returned(outputs)}"


def test_the_contract_has_a_section_for_each_assignment(course):
    assert list(api_sections()) == [
        "rnn_forward",
        "bptt",
        "gated_cells",
        "shapes",
        "taxonomy",
        "attention",
        "name_classifier",
    ]
    assert set(api_sections()) == set(course.assignments)


@pytest.mark.parametrize(
    "name", ["rnn_forward", "bptt", "gated_cells", "shapes", "taxonomy", "attention", "name_classifier"]
)
def test_the_contract_documents_every_function_as_the_reference_defines_it(course, name: str):
    section = api_sections()[name]
    spec = course.assignment(name).spec
    reference = load_reference(name)
    documented = re.findall(r"^### `(.*)`$", section, flags=re.MULTILINE)
    expected = [
        fn if spec.functions[fn].constant else signature(getattr(reference, fn), spec.functions[fn].outputs)
        for fn in spec.functions
    ]
    assert documented == expected
    rules = [rule for rule, on in spec.rules.model_dump().items() if on]
    stated = re.search(r"^Rules: (.*)\.$", section, flags=re.MULTILINE)
    assert (stated[1] if stated else "") == ", ".join(f"`{rule}`" for rule in rules)


@pytest.mark.parametrize("name", ["rnn_forward", "bptt", "gated_cells", "shapes", "taxonomy", "attention"])
def test_the_contract_s_examples_are_the_reference_s(name: str):
    examples = "".join(re.findall(r"```pycon\n(.*?)```", api_sections()[name], re.DOTALL))
    namespace = {**vars(load_reference(name)), "torch": torch, "math": math}
    test = doctest.DocTestParser().get_doctest(examples, namespace, name, str(API), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert test.examples and runner.failures == 0, "".join(report)
