"""The bptt reference agrees with torch.autograd, torch.nn.utils.clip_grad_norm_ and the lecture's worked numbers.

Also: the hidden tests give full marks to correct solutions computed another way (autograd, windows for
full BPTT, clipping without the 1e-6), and typical mistakes lose the points of their task and only those.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import torch
from conftest import ROOT, load_reference

from grader.runner import grade_assignment
from grader.spec import Course
from grader.student import LocalStudent

ref = load_reference("bptt")
forward = load_reference("rnn_forward")
SOURCE = (ROOT / "reference" / "bptt.py").read_text()

DTYPES = [torch.float64, torch.float32]
TOLERANCE = {torch.float64: {"rtol": 1e-9, "atol": 1e-11}, torch.float32: {"rtol": 1e-4, "atol": 1e-4}}
NAMES = ["W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h0"]
SCALARS = ["theta_xh", "theta_hh", "theta_hy", "b_h", "b_y"]

# the lecture's worked example
XS, Y = [1.0, 2.0], 3.0
PARAMS = {"theta_xh": 0.5, "theta_hh": 0.5, "theta_hy": 1.0, "b_h": 0.0, "b_y": 0.0}
GRADIENTS = {
    "loss": 2.326570,
    "theta_xh": -1.494753,
    "theta_hh": -0.288628,
    "theta_hy": -1.818201,
    "b_h": -0.870176,
    "b_y": -2.157114,
}
AFTER_STEP = {"theta_xh": 0.649475, "theta_hh": 0.528863, "theta_hy": 1.181820, "b_h": 0.087018, "b_y": 0.215711}


def scalar_args(params: dict[str, float]) -> list[float]:
    return [params[name] for name in SCALARS]


# ---------------------------------------------------------------- truths by autograd


def scalar_truth(xs: list[float], y: float, params: dict[str, float], h0: float) -> dict[str, float]:
    p = {name: torch.tensor(params[name], dtype=torch.float64, requires_grad=True) for name in SCALARS}
    h = torch.tensor(h0, dtype=torch.float64)
    for x_t in xs:
        h = torch.tanh(p["theta_xh"] * x_t + p["theta_hh"] * h + p["b_h"])
    loss = 0.5 * (p["theta_hy"] * h + p["b_y"] - y) ** 2
    loss.backward()
    return {"loss": loss.item(), **{name: q.grad.item() for name, q in p.items()}}


def windowed_truth(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    """Truncated BPTT by autograd: loss step s recomputes h_{s-k} .. h_s from h_{s-k-1}.detach() (from h0
    itself, requiring grad, when s <= k) and backpropagates only its own loss; the gradients add up."""
    p = dict(
        zip(NAMES, [t.detach().clone().requires_grad_() for t in (W_ih, W_hh, b_ih, b_hh, W_hy, b_y, h0)], strict=True)
    )
    T = x.shape[0]
    k = T if truncate is None else truncate
    with torch.no_grad():
        hs = [h0]
        for x_t in x:
            hs.append(torch.tanh(x_t @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    loss = torch.zeros((), dtype=x.dtype)
    for s in range(1, T + 1) if mode == "many_to_many" else [T]:
        start = s - k - 1
        h = p["h0"] if start < 0 else hs[start].detach()
        for t in range(max(start, 0) + 1, s + 1):
            h = torch.tanh(x[t - 1] @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        y_s = h @ p["W_hy"].T + p["b_y"]
        loss_s = 0.5 * ((y_s - (targets[s - 1] if mode == "many_to_many" else targets)) ** 2).sum()
        loss_s.backward()
        loss = loss + loss_s.detach()
    return loss, {name: torch.zeros_like(q) if q.grad is None else q.grad for name, q in p.items()}


def full_truth(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode):
    """Plain full BPTT by autograd: one forward pass, one summed loss, one backward pass."""
    p = dict(
        zip(NAMES, [t.detach().clone().requires_grad_() for t in (W_ih, W_hh, b_ih, b_hh, W_hy, b_y, h0)], strict=True)
    )
    h, ys = p["h0"], []
    for x_t in x:
        h = torch.tanh(x_t @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        ys.append(h @ p["W_hy"].T + p["b_y"])
    y = torch.stack(ys)
    loss = 0.5 * ((y - targets) ** 2).sum() if mode == "many_to_many" else 0.5 * ((y[-1] - targets) ** 2).sum()
    loss.backward()
    return loss.detach(), {name: q.grad for name, q in p.items()}


def rnn_inputs(seed, T, B, D, H, O, dtype, mode="many_to_many", scale=1.0):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, s=1.0):
        return s * torch.randn(*shape, generator=g, dtype=dtype)

    targets = r(T, B, O) if mode == "many_to_many" else r(B, O)
    weights = r(H, D, s=scale * D**-0.5), r(H, H, s=scale * H**-0.5), r(H, s=0.5), r(H, s=0.5)
    return r(T, B, D), r(B, H, s=0.5), *weights, r(O, H, s=H**-0.5), r(O, s=0.5), targets


def assert_grads_close(got, expected, dtype):
    assert set(got) == set(NAMES)
    for name in NAMES:
        assert got[name].shape == expected[name].shape and got[name].dtype == dtype, name
        torch.testing.assert_close(got[name], expected[name], **TOLERANCE[dtype], msg=name)


# ---------------------------------------------------------------- the scalar RNN


def test_scalar_gradients_reproduce_the_lecture():
    got = ref.scalar_rnn_gradients(XS, Y, *scalar_args(PARAMS))
    assert {name: round(value, 6) for name, value in got.items()} == GRADIENTS
    assert all(type(value) is float for value in got.values())
    assert round(forward.scalar_rnn(XS, *scalar_args(PARAMS))[0], 6) == 0.842886


def test_one_sgd_step_reproduces_the_lecture():
    grads = ref.scalar_rnn_gradients(XS, Y, *scalar_args(PARAMS))
    new = ref.sgd_step(PARAMS, grads, 0.1)
    assert {name: round(value, 6) for name, value in new.items()} == AFTER_STEP
    assert round(ref.scalar_rnn_gradients(XS, Y, *scalar_args(new))["loss"], 6) == 1.404905
    assert round(forward.scalar_rnn(XS, *scalar_args(new))[0], 6) == 1.323751
    # the slide's (1 - tanh^2(z2)) theta_hy in place of theta_hh (1 - tanh^2(z1)) gives other numbers
    h2 = forward.scalar_rnn(XS, *scalar_args(PARAMS))[1][-1]
    slide = (h2 - Y) * (1 - h2**2) * (XS[1] + (1 - h2**2) * 1.0 * XS[0])
    assert round(slide, 6) != GRADIENTS["theta_xh"]


@pytest.mark.parametrize("T", [1, 2, 5, 20])
def test_scalar_gradients_match_autograd(T):
    g = torch.Generator().manual_seed(T)
    xs = torch.randn(T, generator=g, dtype=torch.float64).tolist()
    y, h0, *values = (0.8 * torch.randn(7, generator=g, dtype=torch.float64)).tolist()
    params = dict(zip(SCALARS, values, strict=True))
    got = ref.scalar_rnn_gradients(xs, y, *scalar_args(params), h0)
    assert got == pytest.approx(scalar_truth(xs, y, params, h0), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("T", [1, 4])
def test_scalar_gradients_are_the_vector_ones_with_one_unit(T):
    g = torch.Generator().manual_seed(100 + T)
    xs = torch.randn(T, generator=g, dtype=torch.float64)
    y, h0, *values = torch.randn(7, generator=g, dtype=torch.float64).tolist()
    params = dict(zip(SCALARS, values, strict=True))
    scalar = ref.scalar_rnn_gradients(xs.tolist(), y, *scalar_args(params), h0)

    def t(v: float, *shape: int) -> torch.Tensor:
        return torch.full(shape, v, dtype=torch.float64)

    p = params
    args = xs.view(T, 1, 1), t(h0, 1, 1), t(p["theta_xh"], 1, 1), t(p["theta_hh"], 1, 1), t(p["b_h"], 1), t(0.0, 1)
    loss, grads = ref.rnn_backward(*args, t(p["theta_hy"], 1, 1), t(p["b_y"], 1), t(y, 1, 1), "many_to_one")
    assert loss.item() == pytest.approx(scalar["loss"], rel=1e-12)
    pairs = {"W_ih": "theta_xh", "W_hh": "theta_hh", "b_ih": "b_h", "b_hh": "b_h", "W_hy": "theta_hy", "b_y": "b_y"}
    for vector_name, scalar_name in pairs.items():
        assert grads[vector_name].item() == pytest.approx(scalar[scalar_name], rel=1e-10, abs=1e-14)


# ---------------------------------------------------------------- sgd_step


def test_sgd_step_on_tensors_makes_a_new_dict_and_ignores_extra_keys():
    params = {"W": torch.randn(3, 2, dtype=torch.float32), "b": torch.randn(3, dtype=torch.float32)}
    grads = {"W": torch.randn(3, 2, dtype=torch.float32), "b": torch.randn(3, dtype=torch.float32), "h0": torch.ones(2)}
    before = {k: v.clone() for k, v in params.items()}, {k: v.clone() for k, v in grads.items()}
    new = ref.sgd_step(params, grads, 0.5)
    assert set(new) == {"W", "b"} and new is not params
    for name in new:
        assert new[name].dtype == torch.float32
        torch.testing.assert_close(new[name], before[0][name] - 0.5 * before[1][name])
        assert torch.equal(params[name], before[0][name]) and torch.equal(grads[name], before[1][name])


# ---------------------------------------------------------------- rnn_backward

SHAPES = [(1, 1, 3, 4, 2), (1, 4, 2, 5, 3), (6, 3, 4, 2, 1), (12, 2, 3, 5, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["many_to_many", "many_to_one"])
@pytest.mark.parametrize(("T", "B", "D", "H", "O"), SHAPES)
def test_full_bptt_matches_autograd(T, B, D, H, O, mode, dtype):
    args = rnn_inputs(T * 100 + B, T, B, D, H, O, dtype, mode)
    loss, grads = ref.rnn_backward(*args, mode)
    expected_loss, expected = full_truth(*args, mode)
    assert loss.dim() == 0 and loss.dtype == dtype
    torch.testing.assert_close(loss, expected_loss, **TOLERANCE[dtype])
    assert_grads_close(grads, expected, dtype)


@pytest.mark.parametrize("mode", ["many_to_many", "many_to_one"])
@pytest.mark.parametrize("truncate", [0, 1, 2, 3, 5, 6, 7, 20])
@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_bptt_matches_autograd_windows(truncate, mode, dtype):
    args = rnn_inputs(truncate, 7, 3, 4, 5, 2, dtype, mode, scale=1.5)
    loss, grads = ref.rnn_backward(*args, mode, truncate)
    expected_loss, expected = windowed_truth(*args, mode, truncate)
    torch.testing.assert_close(loss, expected_loss, **TOLERANCE[dtype])
    assert_grads_close(grads, expected, dtype)


@pytest.mark.parametrize("mode", ["many_to_many", "many_to_one"])
@pytest.mark.parametrize("truncate", [6, 7, 30])
def test_windowed_truth_is_full_bptt_when_the_window_covers_the_sequence(truncate, mode):
    args = rnn_inputs(3, 7, 2, 3, 4, 2, torch.float64, mode)
    windowed_loss, windowed = windowed_truth(*args, mode, truncate)
    full_loss, full = full_truth(*args, mode)
    torch.testing.assert_close(windowed_loss, full_loss)
    if truncate >= 7:
        assert_grads_close(windowed, full, torch.float64)
    else:  # one step short of h0: only h0's gradient differs
        assert not torch.allclose(windowed["h0"], full["h0"])
        assert_grads_close({**windowed, "h0": full["h0"]}, full, torch.float64)


def test_truncation_leaves_the_loss_and_readout_alone_and_zero_keeps_h0_out():
    args = rnn_inputs(5, 8, 3, 2, 4, 3, torch.float64)
    full_loss, full = ref.rnn_backward(*args)
    local_loss, local = ref.rnn_backward(*args, "many_to_many", 0)
    assert torch.equal(full_loss, local_loss)
    assert torch.equal(local["h0"], torch.zeros_like(args[1]))
    for name in ("W_hy", "b_y"):
        torch.testing.assert_close(local[name], full[name])
    assert not torch.allclose(local["W_hh"], full["W_hh"])


def test_rnn_backward_leaves_its_arguments_unchanged():
    args = rnn_inputs(9, 5, 2, 3, 4, 2, torch.float64)
    copies = [a.clone() for a in args]
    ref.rnn_backward(*args, "many_to_many", 2)
    assert all(torch.equal(a, c) for a, c in zip(args, copies, strict=True))


# ---------------------------------------------------------------- clip_grad_norm


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("scale", "max_norm"), [(4.0, 1.0), (1000.0, 0.25), (1.0, 1000.0), (0.0, 1.0), (1.0, 0.0)])
def test_clip_grad_norm_matches_torch(scale, max_norm, dtype):
    g = torch.Generator().manual_seed(int(scale) + 7)
    shapes = {"W_ih": (5, 3), "W_hh": (5, 5), "b_ih": (5,), "h0": (4, 5), "scalar": ()}
    grads = {name: scale * torch.randn(shape, generator=g, dtype=dtype) for name, shape in shapes.items()}
    originals = {name: v.clone() for name, v in grads.items()}
    holders = [torch.zeros_like(v, requires_grad=True) for v in grads.values()]
    for holder, v in zip(holders, grads.values(), strict=True):
        holder.grad = v.clone()
    expected_norm = torch.nn.utils.clip_grad_norm_(holders, max_norm)

    clipped, total_norm = ref.clip_grad_norm(grads, max_norm)
    assert total_norm.dim() == 0 and total_norm.dtype == dtype
    torch.testing.assert_close(total_norm, expected_norm, **TOLERANCE[dtype])
    assert list(clipped) == list(grads)
    for (name, value), holder in zip(clipped.items(), holders, strict=True):
        assert value.dtype == dtype and value is not grads[name]
        torch.testing.assert_close(value, holder.grad, **TOLERANCE[dtype])
        assert torch.equal(grads[name], originals[name])


# ---------------------------------------------------------------- the contract's rules


def test_reference_computes_derivatives_by_hand():
    code = re.sub(r'""".*?"""', "", SOURCE, flags=re.DOTALL)  # the docstrings name what is forbidden
    assert not re.search(r"autograd|\.backward\(|requires_grad|torch\.func|functorch|\.grad\b", code)
    assert not re.search(r"torch\.nn|_VF|rnn_tanh|\bnn\.", code)


# ---------------------------------------------------------------- the hidden tests judge fairly


def grade_hidden(course: Course, path: Path, seed: int | None = None):
    return grade_assignment(
        course.assignment("bptt"), LocalStudent(path), ref, course.spec.seed if seed is None else seed, "hidden"
    )


def autograd_rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode="many_to_many", truncate=None):
    return windowed_truth(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode, truncate)


ALTERNATIVES = {
    # clipping as max_norm / total_norm, full BPTT by the per-loss-step windows (another summation order)
    "no_eps_and_windows": [
        ("(total_norm + 1e-6)", "total_norm"),
        ("    if truncate is None:\n", "    if truncate is None and False:\n"),
        ("        k = truncate\n", "        k = x.shape[0] if truncate is None else truncate\n"),
    ],
    # rnn_backward by autograd: a different path to the same numbers, to test the float32 tolerances
    "autograd": [],
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_hidden_tests_give_full_marks_to_other_correct_solutions(course, alternative, seed, tmp_path):
    source = SOURCE
    for old, new in ALTERNATIVES[alternative]:
        assert old in source
        source = source.replace(old, new)
    if alternative == "autograd":
        extra = [inspect.getsource(windowed_truth), inspect.getsource(autograd_rnn_backward)]
        source += f"\n\nNAMES = {NAMES!r}\n\n" + "\n\n".join(extra) + "\n\nrnn_backward = autograd_rnn_backward\n"
    path = tmp_path / "bptt.py"
    path.write_text(source)
    result = grade_hidden(course, path, seed)
    failed = {t.name: t.feedback.render() for t in result.tests if t.status != "passed" and t.feedback}
    assert not failed
    assert result.score == pytest.approx(result.max_score)


MUTANTS = {
    # the slide's typo: theta_hy where the chain rule gives theta_hh
    "slide_factor": ("        delta = d_z * theta_hh  # dJ/dh_{t-1}\n", "        delta = d_z * theta_hy\n", {"scalar"}),
    "sgd_in_place": (
        "    return {name: params[name] - lr * grads[name] for name in params}\n",
        "    params.update({name: params[name] - lr * grads[name] for name in params})\n    return dict(params)\n",
        {"sgd"},
    ),
    "w_hh_with_h_t": (
        "            d_W_hh = d_W_hh + d_z.T @ h[t - 1]\n            d_b_ih = d_b_ih + d_z.sum(dim=0)\n"
        "            d_b_hh = d_b_hh + d_z.sum(dim=0)\n            delta = d_z @ W_hh  # the part",
        "            d_W_hh = d_W_hh + d_z.T @ h[t]\n            d_b_ih = d_b_ih + d_z.sum(dim=0)\n"
        "            d_b_hh = d_b_hh + d_z.sum(dim=0)\n            delta = d_z @ W_hh  # the part",
        {"many_to_many", "many_to_one"},
    ),
    "many_to_one_loss_everywhere": (
        "        d_y[-1] = y[-1] - targets\n",
        "        d_y = y - targets\n",
        {"many_to_one", "truncated"},
    ),
    "window_one_short": ("range(s, max(s - k, 1) - 1, -1)", "range(s, max(s - k, 1), -1)", {"truncated"}),
    "h0_always_in_window": ("            if s <= k:", "            if True:", {"truncated"}),
    "clip_never_clamped": (
        "torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)",
        "max_norm / total_norm",
        {"clipping"},
    ),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_hidden_tests_catch_typical_mistakes(course, mutant, tmp_path):
    old, new, tasks = MUTANTS[mutant]
    assert old in SOURCE
    path = tmp_path / "bptt.py"
    path.write_text(SOURCE.replace(old, new))
    result = grade_hidden(course, path)
    lost = {t.id for t in result.tasks if t.score < t.max_score - 1e-9}  # equal shares need not add up exactly
    assert lost == tasks
