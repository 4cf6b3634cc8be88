"""The shapes reference agrees with torch.nn.RNN / GRU / LSTM over a grid of configurations, and its hidden tests
catch the classic mistakes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from conftest import ROOT, load_reference

from grader.runner import grade_assignment
from grader.spec import Course
from grader.student import LocalStudent

ref = load_reference("shapes")

MODULES = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
GRID = list(itertools.product(MODULES, [1, 2, 3], [False, True], [True, False], [False, True]))
D, H, T, B = 3, 5, 4, 2  # D != H, D != 2H, T != B


def grid_id(config: tuple[str, int, bool, bool, bool]) -> str:
    cell, layers, bidirectional, bias, batch_first = config
    flags = ["bi" if bidirectional else "uni", "bias" if bias else "nobias", "bf" if batch_first else "tm"]
    return "-".join([cell, f"{layers}l", *flags])


@pytest.mark.parametrize(("cell", "num_layers", "bidirectional", "bias", "batch_first"), GRID, ids=map(grid_id, GRID))
def test_reference_is_torch(cell, num_layers, bidirectional, bias, batch_first):
    module = MODULES[cell](D, H, num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    expected_parameters = {name: tuple(p.shape) for name, p in module.named_parameters()}
    shapes = ref.parameter_shapes(cell, D, H, num_layers, bidirectional, bias)
    assert shapes == expected_parameters
    assert all(type(s) is tuple and all(type(n) is int for n in s) for s in shapes.values())

    count = ref.parameter_count(cell, D, H, num_layers, bidirectional, bias)
    assert type(count) is int
    assert count == sum(p.numel() for p in module.parameters())

    x = torch.zeros((B, T, D) if batch_first else (T, B, D))
    with torch.no_grad():
        output, state = module(x)
    expected_outputs = {"input": tuple(x.shape), "output": tuple(output.shape)}
    if cell == "lstm":
        expected_outputs |= {"h_n": tuple(state[0].shape), "c_n": tuple(state[1].shape)}
    else:
        expected_outputs |= {"h_n": tuple(state.shape)}
    outputs = ref.output_shapes(cell, T, B, D, H, num_layers, bidirectional, batch_first)
    assert outputs == expected_outputs
    assert all(type(s) is tuple for s in outputs.values())


@pytest.mark.parametrize("cell", MODULES)
def test_defaults_are_torch_defaults(cell):
    module = MODULES[cell](D, H)
    assert ref.parameter_shapes(cell, D, H) == {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert ref.parameter_count(cell, D, H) == sum(p.numel() for p in module.parameters())
    output, state = module(torch.zeros(T, B, D))
    h_n = state[0] if cell == "lstm" else state
    expected = {"input": (T, B, D), "output": tuple(output.shape), "h_n": tuple(h_n.shape)}
    assert ref.output_shapes(cell, T, B, D, H) == expected | ({"c_n": tuple(h_n.shape)} if cell == "lstm" else {})


def test_worked_table():
    """The handout's tables 1 and 2: torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)."""
    shapes = ref.parameter_shapes("lstm", 10, 20, 2, True)
    assert shapes["weight_ih_l1_reverse"] == (80, 40)
    assert ref.parameter_count("lstm", 10, 20, 2, True) == 15040
    assert ref.output_shapes("lstm", 7, 3, 10, 20, 2, True, True) == {
        "input": (3, 7, 10),
        "output": (3, 7, 40),
        "h_n": (4, 3, 20),
        "c_n": (4, 3, 20),
    }
    assert ref.output_shapes("lstm", 7, 3, 10, 20, 2, True)["output"] == (7, 3, 40)


# The classic mistakes (old line of the reference -> the mistaken line, and the tasks that must notice).
MISTAKES = {
    "no gate multiplier G": (
        'G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]',
        "G = 1",
        ["parameters", "count"],
    ),
    "input_size for every layer": (
        "layer_input = input_size if l == 0 else num_directions * hidden_size",
        "layer_input = input_size",
        ["parameters", "count"],
    ),
    "hidden_size, not 2 * hidden_size, above a bidirectional layer": (
        "layer_input = input_size if l == 0 else num_directions * hidden_size",
        "layer_input = input_size if l == 0 else hidden_size",
        ["parameters", "count"],
    ),
    "bias=False ignored": ("            if bias:\n", "            if True:\n", ["parameters", "count"]),
    "h_n batch first when batch_first": (
        "    h_n = (num_layers * num_directions, batch, hidden_size)",
        "    h_n = (batch, num_layers * num_directions, hidden_size) if batch_first else "
        "(num_layers * num_directions, batch, hidden_size)",
        ["outputs"],
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_hidden_tests_catch_the_classic_mistake(course: Course, mistake: str, tmp_path: Path):
    old, new, tasks = MISTAKES[mistake]
    source = (ROOT / "reference" / "shapes.py").read_text()
    assert source.count(old) == 1, "the reference changed: update MISTAKES"
    mutant = tmp_path / "shapes.py"
    mutant.write_text(source.replace(old, new))
    result = grade_assignment(course.assignment("shapes"), LocalStudent(mutant), ref, course.spec.seed, "hidden")
    for task in tasks:
        assert any(t.status == "failed" for t in result.tests if t.task == task), task
