"""The gated_cells reference agrees with PyTorch's GRUCell, LSTMCell, GRU and LSTM, and its hidden tests catch the
classic mistakes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from conftest import ROOT, load_reference

from grader.runner import grade_assignment
from grader.spec import Course
from grader.student import LocalStudent

ref = load_reference("gated_cells")

DTYPES = [torch.float64, torch.float32]
CELL_SHAPES = [(1, 3, 5), (4, 7, 2), (2, 1, 1), (5, 6, 6)]  # (B, D, H)
SEQUENCE_SHAPES = [(1, 1, 4, 3), (7, 2, 5, 3), (30, 3, 2, 6)]  # (T, B, D, H)


def torch_module(kind: str, D: int, H: int, dtype: torch.dtype, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return getattr(torch.nn, kind)(D, H, dtype=dtype)


def cell_weights(module: torch.nn.Module) -> list[torch.Tensor]:
    return [module.weight_ih.detach(), module.weight_hh.detach(), module.bias_ih.detach(), module.bias_hh.detach()]


def layer_weights(module: torch.nn.Module) -> list[torch.Tensor]:
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    return [getattr(module, name).detach() for name in names]


def randn(*shape: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "D", "H"), CELL_SHAPES)
def test_gru_cell_is_torch_grucell(B, D, H, dtype):
    cell = torch_module("GRUCell", D, H, dtype, seed=B * 100 + D * 10 + H)
    x, h_prev = randn(B, D, dtype=dtype), randn(B, H, dtype=dtype)
    with torch.no_grad():
        expected = cell(x, h_prev)
    h = ref.gru_cell(x, h_prev, *cell_weights(cell))
    assert h.dtype == dtype
    torch.testing.assert_close(h, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "D", "H"), CELL_SHAPES)
def test_lstm_cell_is_torch_lstmcell(B, D, H, dtype):
    cell = torch_module("LSTMCell", D, H, dtype, seed=B * 100 + D * 10 + H)
    x, h_prev, c_prev = randn(B, D, dtype=dtype), randn(B, H, dtype=dtype), randn(B, H, dtype=dtype)
    with torch.no_grad():
        expected_h, expected_c = cell(x, (h_prev, c_prev))
    h, c = ref.lstm_cell(x, h_prev, c_prev, *cell_weights(cell))
    assert h.dtype == c.dtype == dtype
    torch.testing.assert_close(h, expected_h)
    torch.testing.assert_close(c, expected_c)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "D", "H"), SEQUENCE_SHAPES)
def test_gru_forward_is_torch_gru(T, B, D, H, dtype):
    gru = torch_module("GRU", D, H, dtype, seed=T + B + D + H)
    x, h0 = randn(T, B, D, dtype=dtype), randn(B, H, dtype=dtype)
    with torch.no_grad():
        expected_hs, h_n = gru(x, h0.unsqueeze(0))
    hs, h_last = ref.gru_forward(x, h0, *layer_weights(gru))
    assert hs.shape == (T, B, H) and hs.dtype == dtype
    torch.testing.assert_close(hs, expected_hs)
    torch.testing.assert_close(h_last, h_n[0])
    assert torch.equal(h_last, hs[-1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "D", "H"), SEQUENCE_SHAPES)
def test_lstm_forward_is_torch_lstm(T, B, D, H, dtype):
    lstm = torch_module("LSTM", D, H, dtype, seed=T + B + D + H)
    x, h0, c0 = randn(T, B, D, dtype=dtype), randn(B, H, dtype=dtype), randn(B, H, dtype=dtype)
    with torch.no_grad():
        expected_hs, (h_n, c_n) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    result = ref.lstm_forward(x, h0, c0, *layer_weights(lstm))
    hs, (h_last, c_last) = result
    assert isinstance(result, tuple) and isinstance(result[1], tuple)
    assert hs.shape == (T, B, H) and hs.dtype == dtype
    torch.testing.assert_close(hs, expected_hs)
    torch.testing.assert_close(h_last, h_n[0])
    torch.testing.assert_close(c_last, c_n[0])
    assert torch.equal(h_last, hs[-1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_gates_match_torch_and_stay_finite(dtype):
    B, D, H = 3, 6, 4
    gru, lstm = torch_module("GRUCell", D, H, dtype, seed=1), torch_module("LSTMCell", D, H, dtype, seed=2)
    with torch.no_grad():
        for module in (gru, lstm):
            for p in module.parameters():
                p.mul_(40.0)
    x, h_prev, c_prev = (
        randn(B, D, dtype=dtype, scale=20.0),
        randn(B, H, dtype=dtype),
        randn(B, H, dtype=dtype, scale=20.0),
    )
    with torch.no_grad():
        expected_gru = gru(x, h_prev)
        expected_h, expected_c = lstm(x, (h_prev, c_prev))
    h = ref.gru_cell(x, h_prev, *cell_weights(gru))
    h_lstm, c_lstm = ref.lstm_cell(x, h_prev, c_prev, *cell_weights(lstm))
    for got, expected in [(h, expected_gru), (h_lstm, expected_h), (c_lstm, expected_c)]:
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, expected)


def test_no_argument_is_modified_in_place():
    T, B, D, H = 3, 2, 4, 5
    args = {
        "gru_cell": (randn(B, D, dtype=torch.float64), randn(B, H, dtype=torch.float64)),
        "lstm_cell": (
            randn(B, D, dtype=torch.float64),
            randn(B, H, dtype=torch.float64),
            randn(B, H, dtype=torch.float64),
        ),
        "gru_forward": (randn(T, B, D, dtype=torch.float64), randn(B, H, dtype=torch.float64)),
        "lstm_forward": (
            randn(T, B, D, dtype=torch.float64),
            randn(B, H, dtype=torch.float64),
            randn(B, H, dtype=torch.float64),
        ),
    }
    for function, state in args.items():
        G = 3 if function.startswith("gru") else 4
        all_args = (*state, randn(G * H, D, dtype=torch.float64), randn(G * H, H, dtype=torch.float64))
        all_args += (randn(G * H, dtype=torch.float64), randn(G * H, dtype=torch.float64))
        before = [a.clone() for a in all_args]
        getattr(ref, function)(*all_args)
        assert all(torch.equal(a, b) for a, b in zip(all_args, before, strict=True)), function


def test_reference_writes_the_recurrences_itself():
    tree = ast.parse((ROOT / "reference" / "gated_cells.py").read_text())
    used = {ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    torch_calls = {name for name in used if name.startswith("torch.")}
    assert torch_calls <= {"torch.sigmoid", "torch.tanh", "torch.stack"}, torch_calls


# The classic mistakes (old line of the reference -> the mistaken line, and the task that must notice).
MISTAKES = {
    "update gate flipped: h' = (1 - z) * h + z * n": (
        "h = z * h_prev + (1 - z) * n",
        "h = (1 - z) * h_prev + z * n",
        "gru_cell",
    ),
    "reset gate applied before the matmul (d2l / Cho et al.)": (
        "r * (h_prev @ W_hn.T + b_hn)",
        "(r * h_prev) @ W_hn.T + b_hn",
        "gru_cell",
    ),
    "LSTM gate order i, f, o, g": (
        "W_ii, W_if, W_ig, W_io = W_ih.chunk(4)",
        "W_ii, W_if, W_io, W_ig = W_ih.chunk(4)",
        "lstm_cell",
    ),
    "no tanh on the cell: h = o * c": ("h = o * torch.tanh(c)", "h = o * c", "lstm_cell"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_hidden_tests_catch_the_classic_mistake(course: Course, mistake: str, tmp_path: Path):
    old, new, task = MISTAKES[mistake]
    source = (ROOT / "reference" / "gated_cells.py").read_text()
    assert source.count(old) == 1, "the reference changed: update MISTAKES"
    mutant = tmp_path / "gated_cells.py"
    mutant.write_text(source.replace(old, new))
    result = grade_assignment(course.assignment("gated_cells"), LocalStudent(mutant), ref, course.spec.seed, "hidden")
    assert any(t.status == "failed" for t in result.tests if t.task == task)
    forward = task.replace("_cell", "_forward")
    assert any(t.status == "failed" for t in result.tests if t.task == forward)
