"""Public tests of bptt: the lecture's worked numbers, and truths computed here with torch.autograd.

Your module may not use autograd; these tests may, to tell you what the right answer is. The hidden
tests call your functions the same way, on more shapes, both dtypes and longer sequences.
"""

import pytest
import torch

from grader.checks import SIX_DECIMALS, check_value

# ---------------------------------------------------------------- the scalar RNN of the lecture

# xs = [1, 2], y = 3, theta_xh = theta_hh = 0.5, theta_hy = 1, b_h = b_y = 0
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


def scalar_truth(xs, y, params, h0=0.0):
    """The loss and dJ/dparam of the scalar RNN, by autograd."""
    p = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}
    h = torch.tensor(h0, dtype=torch.float64)
    for x_t in xs:
        h = torch.tanh(p["theta_xh"] * x_t + p["theta_hh"] * h + p["b_h"])
    loss = 0.5 * (p["theta_hy"] * h + p["b_y"] - y) ** 2
    loss.backward()
    return {"loss": loss.item(), **{name: p[name].grad.item() for name in p}}


def call_args(xs, y, params):
    return (xs, y, params["theta_xh"], params["theta_hh"], params["theta_hy"], params["b_h"], params["b_y"])


@pytest.mark.task("scalar")
def test_scalar_gradients_lecture_example(grade):
    grade.expect("scalar_rnn_gradients", *call_args(XS, Y, PARAMS), expected=GRADIENTS, tolerance=SIX_DECIMALS)


@pytest.mark.task("scalar")
def test_scalar_gradients_match_autograd(grade):
    xs, y, h0 = [0.3, -1.2, 0.8, 2.0], -0.4, 0.25
    params = {"theta_xh": 0.9, "theta_hh": -0.7, "theta_hy": 1.3, "b_h": 0.2, "b_y": -0.1}
    expected = scalar_truth(xs, y, params, h0)
    grade.expect("scalar_rnn_gradients", *call_args(xs, y, params), h0, expected=expected)


@pytest.mark.task("scalar")
def test_scalar_loss_after_one_sgd_step(grade):
    new = {name: value - 0.1 * GRADIENTS[name] for name, value in PARAMS.items()}
    got = grade.expect("scalar_rnn_gradients", *call_args(XS, Y, new), expected=scalar_truth(XS, Y, new))
    check_value("gradients['loss']", got["loss"], 1.404905, SIX_DECIMALS)


@pytest.mark.task("sgd")
def test_sgd_step_lecture_example(grade):
    expected = {"theta_xh": 0.649475, "theta_hh": 0.528863, "theta_hy": 1.181820, "b_h": 0.087018, "b_y": 0.215711}
    grade.expect("sgd_step", PARAMS, GRADIENTS, 0.1, expected=expected, tolerance=SIX_DECIMALS)


@pytest.mark.task("sgd")
def test_sgd_step_tensors(grade, rng):
    params = {
        "W": torch.randn(3, 2, generator=rng, dtype=torch.float64),
        "b": torch.randn(3, generator=rng, dtype=torch.float64),
    }
    grads = {
        "W": torch.randn(3, 2, generator=rng, dtype=torch.float64),
        "b": torch.randn(3, generator=rng, dtype=torch.float64),
    }
    grads["unused"] = torch.ones(1)  # grads may hold keys that params does not have
    expected = {"W": params["W"] - 0.01 * grads["W"], "b": params["b"] - 0.01 * grads["b"]}
    grade.expect("sgd_step", params, grads, 0.01, expected=expected)


# ---------------------------------------------------------------- the vector RNN

NAMES = ["W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h0"]


def rnn_inputs(rng, T, B, D, H, O, mode):
    def r(*shape):
        return 0.5 * torch.randn(*shape, generator=rng, dtype=torch.float64)

    targets = r(T, B, O) if mode == "many_to_many" else r(B, O)
    return r(T, B, D), r(B, H), r(H, D), r(H, H), r(H), r(H), r(O, H), r(O), targets


def autograd_truth(x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets, mode, truncate):
    """rnn_backward by autograd: each loss step s backpropagates only into h_{s-k} .. h_s.

    For loss step s the states h_{s-k}, ..., h_s are recomputed from h_{s-k-1} cut off from the graph
    (.detach()), or from h0 itself when the window reaches back to it; only that step's loss is
    backpropagated, and the gradients of all loss steps add up. truncate=None is a window as long
    as the sequence: full BPTT.
    """
    p = dict(zip(NAMES, [t.clone().requires_grad_() for t in (W_ih, W_hh, b_ih, b_hh, W_hy, b_y, h0)], strict=True))
    T = x.shape[0]
    k = T if truncate is None else truncate
    with torch.no_grad():
        hs = [h0]  # h_0 .. h_T
        for x_t in x:
            hs.append(torch.tanh(x_t @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    loss = torch.zeros((), dtype=x.dtype)
    for s in range(1, T + 1) if mode == "many_to_many" else [T]:
        start = s - k - 1
        h = p["h0"] if start < 0 else hs[start].detach()
        for t in range(max(start, 0) + 1, s + 1):
            h = torch.tanh(x[t - 1] @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        y_s = h @ p["W_hy"].T + p["b_y"]
        target = targets[s - 1] if mode == "many_to_many" else targets
        loss_s = 0.5 * ((y_s - target) ** 2).sum()
        loss_s.backward()
        loss = loss + loss_s.detach()
    return loss, {name: torch.zeros_like(q) if q.grad is None else q.grad for name, q in p.items()}


@pytest.mark.task("many_to_many")
@pytest.mark.parametrize(("T", "B"), [(1, 1), (5, 2)])
def test_many_to_many_matches_autograd(grade, rng, T, B):
    args = rnn_inputs(rng, T, B, 3, 4, 2, "many_to_many")
    grade.expect("rnn_backward", *args, "many_to_many", None, expected=autograd_truth(*args, "many_to_many", None))


@pytest.mark.task("many_to_one")
def test_many_to_one_matches_autograd(grade, rng):
    args = rnn_inputs(rng, 5, 2, 3, 4, 2, "many_to_one")
    grade.expect("rnn_backward", *args, "many_to_one", None, expected=autograd_truth(*args, "many_to_one", None))


@pytest.mark.task("truncated")
@pytest.mark.parametrize(("mode", "truncate"), [("many_to_many", 2), ("many_to_many", 0), ("many_to_one", 3)])
def test_truncated_matches_autograd(grade, rng, mode, truncate):
    args = rnn_inputs(rng, 6, 2, 3, 4, 2, mode)
    grade.expect("rnn_backward", *args, mode, truncate, expected=autograd_truth(*args, mode, truncate))


# ---------------------------------------------------------------- clipping


@pytest.mark.task("clipping")
@pytest.mark.parametrize("max_norm", [1.0, 100.0])
def test_clip_grad_norm_matches_torch(grade, rng, max_norm):
    grads = {name: 5.0 * torch.randn(4, 3, generator=rng, dtype=torch.float64) for name in ("W_ih", "W_hh", "b")}
    # torch.nn.utils.clip_grad_norm_ clips the .grad of parameters in place: give it copies
    holders = [torch.zeros_like(g, requires_grad=True) for g in grads.values()]
    for holder, g in zip(holders, grads.values(), strict=True):
        holder.grad = g.clone()
    total_norm = torch.nn.utils.clip_grad_norm_(holders, max_norm)
    clipped = {name: holder.grad for name, holder in zip(grads, holders, strict=True)}
    grade.expect("clip_grad_norm", grads, max_norm, expected=(clipped, total_norm))
