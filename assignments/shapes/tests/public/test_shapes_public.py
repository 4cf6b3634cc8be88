"""Tests you can run yourself: your shape tables against the handout's worked table and against PyTorch's modules.

The expected values come from building the real torch.nn.RNN / GRU / LSTM and reading their parameters and
outputs; your shapes.py must work them out by hand.
"""

import pytest
import torch

MODULES = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}


def torch_parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias):
    module = MODULES[cell](input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    return {name: tuple(p.shape) for name, p in module.named_parameters()}


@pytest.mark.task("parameters")
def test_worked_table(grade):
    """Table 1 of the handout: torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)."""
    expected = {}
    for suffix in ("", "_reverse"):
        expected |= {
            f"weight_ih_l0{suffix}": (80, 10),
            f"weight_hh_l0{suffix}": (80, 20),
            f"bias_ih_l0{suffix}": (80,),
            f"bias_hh_l0{suffix}": (80,),
            f"weight_ih_l1{suffix}": (80, 40),
            f"weight_hh_l1{suffix}": (80, 20),
            f"bias_ih_l1{suffix}": (80,),
            f"bias_hh_l1{suffix}": (80,),
        }
    grade.expect("parameter_shapes", "lstm", 10, 20, 2, True, True, expected=expected)


@pytest.mark.task("parameters")
@pytest.mark.parametrize("cell", MODULES)
@pytest.mark.parametrize(("num_layers", "bidirectional", "bias"), [(1, False, True), (3, True, False)])
def test_parameter_shapes_match_torch(grade, cell, num_layers, bidirectional, bias):
    expected = torch_parameter_shapes(cell, 3, 5, num_layers, bidirectional, bias)
    grade.expect("parameter_shapes", cell, 3, 5, num_layers, bidirectional, bias, expected=expected)


@pytest.mark.task("count")
def test_worked_count(grade):
    """The handout's worked count: 15040 parameters for torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)."""
    grade.expect("parameter_count", "lstm", 10, 20, 2, True, True, expected=15040)


@pytest.mark.task("count")
@pytest.mark.parametrize("cell", MODULES)
def test_parameter_count_matches_torch(grade, cell):
    module = MODULES[cell](7, 4, num_layers=2, bidirectional=True)
    grade.expect("parameter_count", cell, 7, 4, 2, True, True, expected=sum(p.numel() for p in module.parameters()))


@pytest.mark.task("outputs")
@pytest.mark.parametrize("cell", MODULES)
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_major", "batch_first"])
def test_output_shapes_match_torch(grade, cell, batch_first):
    T, B, D, H, num_layers, bidirectional = 7, 3, 10, 20, 2, True
    module = MODULES[cell](D, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.zeros((B, T, D) if batch_first else (T, B, D))
    with torch.no_grad():
        output, state = module(x)
    expected = {"input": tuple(x.shape), "output": tuple(output.shape)}
    if cell == "lstm":
        expected |= {"h_n": tuple(state[0].shape), "c_n": tuple(state[1].shape)}
    else:
        expected |= {"h_n": tuple(state.shape)}
    grade.expect("output_shapes", cell, T, B, D, H, num_layers, bidirectional, batch_first, expected=expected)
