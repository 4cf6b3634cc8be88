"""The rnn_forward reference agrees with PyTorch's RNN layers and the lecture's worked numbers."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from conftest import ROOT, load_reference

from grader.runner import grade_assignment
from grader.spec import Course
from grader.student import LocalStudent

ref = load_reference("rnn_forward")

DTYPES = [torch.float64, torch.float32]
TOLERANCE = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {"rtol": 1e-5, "atol": 1e-6}}


def randomize(module: torch.nn.Module, seed: int) -> list[torch.Tensor]:
    """Fill a torch module's parameters with N(0, 0.5^2) values; return detached copies."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "D", "H"), [(1, 1, 1), (1, 3, 5), (4, 6, 2), (7, 5, 5)])
def test_rnn_cell_matches_torch_rnn_cell(B, D, H, dtype):
    cell = torch.nn.RNNCell(D, H, dtype=dtype)
    weights = randomize(cell, B + 10 * D + 100 * H)
    x, h_prev = torch.randn(B, D, dtype=dtype), torch.randn(B, H, dtype=dtype)
    with torch.no_grad():
        expected = cell(x, h_prev)
    got = ref.rnn_cell(x, h_prev, *weights)
    assert got.dtype == dtype
    torch.testing.assert_close(got, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "D", "H"), [(1, 1, 3, 4), (1, 5, 4, 2), (6, 3, 2, 5), (30, 2, 3, 4)])
def test_rnn_forward_matches_torch_rnn(T, B, D, H, dtype):
    rnn = torch.nn.RNN(D, H, dtype=dtype)
    weights = randomize(rnn, T + 10 * B)
    x, h0 = torch.randn(T, B, D, dtype=dtype), torch.randn(B, H, dtype=dtype)
    with torch.no_grad():
        output, h_n = rnn(x, h0[None])
    hs, h_last = ref.rnn_forward(x, h0, *weights)
    assert hs.shape == (T, B, H) and h_last.shape == (B, H) and hs.dtype == h_last.dtype == dtype
    torch.testing.assert_close(hs, output, **TOLERANCE[dtype])
    torch.testing.assert_close(h_last, h_n[0], **TOLERANCE[dtype])
    assert torch.equal(h_last, hs[-1])


def test_rnn_forward_stacks_layers_like_torch():
    """Two layers: the second layer's input is the first layer's hs (which must hold h_1..h_T only)."""
    T, B, D, H = 5, 3, 4, 6
    rnn = torch.nn.RNN(D, H, num_layers=2, dtype=torch.float64)
    w = randomize(rnn, 7)
    x, h0 = torch.randn(T, B, D, dtype=torch.float64), torch.randn(2, B, H, dtype=torch.float64)
    with torch.no_grad():
        output, h_n = rnn(x, h0)
    hs0, last0 = ref.rnn_forward(x, h0[0], *w[:4])
    hs1, last1 = ref.rnn_forward(hs0, h0[1], *w[4:])
    torch.testing.assert_close(hs1, output)
    torch.testing.assert_close(torch.stack([last0, last1]), h_n)


def test_rnn_forward_runs_backwards_like_torch_bidirectional():
    """The reverse direction of a bidirectional RNN is rnn_forward on the flipped sequence, flipped back."""
    T, B, D, H = 6, 2, 3, 4
    rnn = torch.nn.RNN(D, H, bidirectional=True, dtype=torch.float64)
    w = randomize(rnn, 11)
    x, h0 = torch.randn(T, B, D, dtype=torch.float64), torch.randn(2, B, H, dtype=torch.float64)
    with torch.no_grad():
        output, h_n = rnn(x, h0)
    assert output.shape == (T, B, 2 * H)
    forward, _ = ref.rnn_forward(x, h0[0], *w[:4])
    backward, _ = ref.rnn_forward(x.flip(0), h0[1], *w[4:])
    torch.testing.assert_close(output, torch.cat([forward, backward.flip(0)], dim=-1))
    torch.testing.assert_close(h_n[1], backward[-1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6,), (4, 6), (5, 3, 6)])
def test_linear_readout_matches_torch_linear(shape, dtype):
    linear = torch.nn.Linear(6, 3, dtype=dtype)
    W_hy, b_y = randomize(linear, len(shape))
    h = torch.randn(*shape, dtype=dtype)
    with torch.no_grad():
        expected = linear(h)
    got = ref.linear_readout(h, W_hy, b_y)
    assert got.shape == (*shape[:-1], 3)
    torch.testing.assert_close(got, expected, **TOLERANCE[dtype])


def test_scalar_rnn_handout_example():
    y_hat, hs = ref.scalar_rnn([0.7, 0.9, 1.1], 0.2, 0.3, 1.0, -0.1, 0.0)
    assert [round(h, 6) for h in hs] == [0.039979, 0.091735, 0.146460]
    assert [math.floor(h * 1e4) / 1e4 for h in hs] == [0.0399, 0.0917, 0.1464]  # the handout's truncation
    assert round(y_hat, 6) == 0.146460
    # the handout's misprinted bias -0,3 does not give its numbers
    assert round(ref.scalar_rnn([0.7], 0.2, 0.3, 1.0, -0.3, 0.0)[1][0], 4) != 0.0399


def test_scalar_rnn_bptt_example():
    y_hat, hs = ref.scalar_rnn([1.0, 2.0], 0.5, 0.5, 1.0, 0.0, 0.0)
    assert (round(y_hat, 6), [round(h, 6) for h in hs]) == (0.842886, [0.462117, 0.842886])
    assert type(y_hat) is float and all(type(h) is float for h in hs)
    after_step = ref.scalar_rnn([1.0, 2.0], 0.6494753, 0.5288628, 1.1818201, 0.0870176, 0.2157114)[0]
    assert round(after_step, 6) == 1.323751


@pytest.mark.parametrize("T", [1, 3, 12])
def test_scalar_rnn_is_the_vector_rnn_with_one_unit(T):
    generator = torch.Generator().manual_seed(T)
    xs = torch.randn(T, generator=generator, dtype=torch.float64)
    theta_xh, theta_hh, theta_hy, b_h, b_y, h0 = torch.randn(6, generator=generator, dtype=torch.float64).tolist()
    y_hat, hs = ref.scalar_rnn(xs.tolist(), theta_xh, theta_hh, theta_hy, b_h, b_y, h0)

    def one(v: float) -> torch.Tensor:
        return torch.tensor([[v]], dtype=torch.float64)

    hs_vec, h_last = ref.rnn_forward(xs.view(T, 1, 1), one(h0), one(theta_xh), one(theta_hh), one(b_h)[0], one(0.0)[0])
    assert hs == pytest.approx(hs_vec.flatten().tolist(), rel=1e-12)
    assert y_hat == pytest.approx(ref.linear_readout(h_last, one(theta_hy), one(b_y)[0]).item(), rel=1e-12)


def test_reference_uses_no_recurrent_modules():
    source = (ROOT / "reference" / "rnn_forward.py").read_text()
    assert not re.search(r"torch\.nn|_VF|rnn_tanh|\bnn\.", source)


# Typical mistakes: each must lose the points of its task, and only those.
MUTANTS = {
    "hs_with_h0": (
        "    return torch.stack(hs), h  # (T, B, H), (B, H)\n",
        "    return torch.stack([h0, *hs]), h\n",
        {"forward"},
    ),
    "one_bias": (
        "    h = torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)\n",
        "    h = torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T)\n",
        {"cell", "forward"},
    ),
    "untransposed_readout": (
        "    y = h @ W_hy.T + b_y\n",
        "    y = (W_hy @ h.unsqueeze(-1)).squeeze(-1) + 1.0 * b_y[0]\n",
        {"readout"},
    ),
    "scalar_no_recurrence": (
        "        h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)\n",
        "        h = math.tanh(theta_xh * x_t + b_h)\n",
        {"scalar"},
    ),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_hidden_tests_catch_typical_mistakes(course: Course, mutant: str, tmp_path: Path):
    old, new, tasks = MUTANTS[mutant]
    source = (ROOT / "reference" / "rnn_forward.py").read_text()
    assert old in source
    path = tmp_path / "rnn_forward.py"
    path.write_text(source.replace(old, new))
    result = grade_assignment(course.assignment("rnn_forward"), LocalStudent(path), ref, course.spec.seed, "hidden")
    lost = {t.id for t in result.tasks if t.score < t.max_score - 1e-9}  # shares of 3/7 do not add up exactly
    assert lost == tasks
