"""Hidden tests of the scalar RNN's gradients and of the SGD step, with the lecture's worked numbers."""

import pytest
import torch

from grader.checks import SIX_DECIMALS, check_value

# the lecture's BPTT example: xs = [1, 2], y = 3, theta_xh = theta_hh = 0.5, theta_hy = 1, b_h = b_y = 0
EXAMPLE = ([1.0, 2.0], 3.0, 0.5, 0.5, 1.0, 0.0, 0.0)
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


@pytest.mark.task("scalar")
def test_scalar_gradients_lecture_example(grade):
    grade.expect("scalar_rnn_gradients", *EXAMPLE, expected=GRADIENTS, tolerance=SIX_DECIMALS)


@pytest.mark.task("scalar")
def test_scalar_loss_after_one_sgd_step(grade):
    # the parameters after one step with lr 0.1, computed from the lecture's gradients
    new = {name: value - 0.1 * GRADIENTS[name] for name, value in PARAMS.items()}
    xs, y = EXAMPLE[:2]
    got = grade.compare(
        "scalar_rnn_gradients", xs, y, new["theta_xh"], new["theta_hh"], new["theta_hy"], new["b_h"], new["b_y"]
    )
    check_value("gradients['loss']", got["loss"], 1.404905, SIX_DECIMALS)


@pytest.mark.task("scalar")
@pytest.mark.parametrize("T", [1, 3, 20])
def test_scalar_gradients_random(grade, rng, T):
    xs = torch.randn(T, generator=rng, dtype=torch.float64).tolist()
    y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0 = (0.7 * torch.randn(7, generator=rng, dtype=torch.float64)).tolist()
    grade.compare("scalar_rnn_gradients", xs, y, theta_xh, theta_hh, theta_hy, b_h, b_y, h0)


@pytest.mark.task("scalar")
def test_scalar_gradients_saturated(grade, rng):
    """theta_xh = 500 and xs in (-1, 1): most steps' z_t lie between 50 and 500 in magnitude, and z_2 beyond 400,
    where e^2z overflows (math.exp raises); steps 1, 4, 7 have x_t 1000 times smaller and stay unsaturated, so that
    the error still flows back through some steps."""
    T = 8
    xs = 2 * torch.rand(T, generator=rng, dtype=torch.float64) - 1
    xs[::3] *= 1e-3
    xs[1] = 0.9
    y, theta_hh, theta_hy, b_h, b_y, h0 = (0.7 * torch.randn(6, generator=rng, dtype=torch.float64)).tolist()
    grade.compare("scalar_rnn_gradients", xs.tolist(), y, 500.0, theta_hh, theta_hy, b_h, b_y, h0)


@pytest.mark.task("scalar")
def test_scalar_gradients_leave_xs_unchanged(grade):
    grade.check_unchanged("scalar_rnn_gradients", *EXAMPLE)


@pytest.mark.task("sgd")
def test_sgd_step_lecture_example(grade):
    # the gradients come as scalar_rnn_gradients returns them, with the extra key "loss"
    grade.expect("sgd_step", PARAMS, GRADIENTS, 0.1, expected=AFTER_STEP, tolerance=SIX_DECIMALS)


def tensor_dicts(rng, dtype):
    shapes = {"W_ih": (4, 3), "W_hh": (4, 4), "b_ih": (4,), "h0": (2, 4), "scale": ()}
    params = {name: torch.randn(shape, generator=rng, dtype=dtype) for name, shape in shapes.items()}
    grads = {name: torch.randn(shape, generator=rng, dtype=dtype) for name, shape in shapes.items()}
    grads["W_hy"] = torch.randn(2, 4, generator=rng, dtype=dtype)  # a key params does not have
    return params, grads


@pytest.mark.task("sgd")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sgd_step_tensors(grade, rng, dtype):
    params, grads = tensor_dicts(rng, dtype)
    grade.compare("sgd_step", params, grads, 0.05)


@pytest.mark.task("sgd")
def test_sgd_step_leaves_arguments_unchanged(grade, rng):
    params, grads = tensor_dicts(rng, torch.float64)
    grade.check_unchanged("sgd_step", params, grads, 0.5)
