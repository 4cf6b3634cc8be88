"""Hidden tests of rnn_backward against the reference: full BPTT in both modes, and truncated BPTT."""

import pytest
import torch


def rnn_inputs(rng, T, B, D, H, O, dtype, mode="many_to_many"):
    """x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets; weights scaled so that tanh is not saturated."""

    def r(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=rng, dtype=dtype)

    targets = r(T, B, O) if mode == "many_to_many" else r(B, O)
    return (
        r(T, B, D),
        r(B, H, scale=0.5),
        r(H, D, scale=D**-0.5),
        r(H, H, scale=H**-0.5),
        r(H, scale=0.5),
        r(H, scale=0.5),
        r(O, H, scale=H**-0.5),
        r(O, scale=0.5),
        targets,
    )


def dyadic(rng, *shape, scale, dtype):
    """N(0, scale^2) rounded to a multiple of 1/8: the products and sums of such numbers that a step computes are
    exact in float32 as in float64, so every order of summation gives the same pre-activations."""
    return torch.round(8 * scale * torch.randn(*shape, generator=rng, dtype=dtype)) / 8


def saturating_inputs(rng, T, B, D, H, O, dtype, mode):
    """Like rnn_inputs, but x W_ih^T is of order 300, so tanh saturates for most entries (|z| >= 50), and b_ih
    pushes unit 0 to about +2000 and unit 1 to about -2000, beyond where e^z overflows in float64 (z > 709)."""
    x, W_ih = dyadic(rng, T, B, D, scale=10.0, dtype=dtype), dyadic(rng, H, D, scale=30 * D**-0.5, dtype=dtype)
    h0, W_hh = dyadic(rng, B, H, scale=0.5, dtype=dtype), dyadic(rng, H, H, scale=H**-0.5, dtype=dtype)
    b_ih, b_hh = dyadic(rng, H, scale=0.5, dtype=dtype), dyadic(rng, H, scale=0.5, dtype=dtype)
    b_ih[:2] = torch.tensor([2000.0, -2000.0])
    W_hy, b_y = dyadic(rng, O, H, scale=H**-0.5, dtype=dtype), dyadic(rng, O, scale=0.5, dtype=dtype)
    targets = torch.randn(*((T, B, O) if mode == "many_to_many" else (B, O)), generator=rng, dtype=dtype)
    return x, h0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, targets


DTYPES = [pytest.param(torch.float64, id="float64"), pytest.param(torch.float32, id="float32")]

# (T, B, D, H, O, dtype): a single step and a long sequence, batch 1 and > 1, D != H != O, both dtypes
CASES = [
    (1, 1, 3, 4, 2, torch.float64),
    (1, 4, 2, 5, 3, torch.float32),
    (6, 3, 4, 2, 1, torch.float64),
    (30, 2, 3, 5, 2, torch.float64),
    (30, 3, 2, 4, 3, torch.float32),
]


@pytest.mark.task("many_to_many")
@pytest.mark.parametrize(("T", "B", "D", "H", "O", "dtype"), CASES)
def test_many_to_many(grade, rng, T, B, D, H, O, dtype):
    grade.compare("rnn_backward", *rnn_inputs(rng, T, B, D, H, O, dtype), "many_to_many", None)


@pytest.mark.task("many_to_many")
@pytest.mark.parametrize("dtype", DTYPES)
def test_many_to_many_saturated(grade, rng, dtype):
    """tanh of pre-activations of order 300 and of +-2000: h_t is 1 or -1 there, never NaN, and 1 - h_t^2 is 0."""
    grade.compare("rnn_backward", *saturating_inputs(rng, 6, 3, 4, 5, 2, dtype, "many_to_many"), "many_to_many", None)


@pytest.mark.task("many_to_many")
def test_many_to_many_is_the_default(grade, rng):
    grade.compare("rnn_backward", *rnn_inputs(rng, 5, 3, 2, 4, 3, torch.float64))


@pytest.mark.task("many_to_many")
def test_many_to_many_leaves_arguments_unchanged(grade, rng):
    grade.check_unchanged("rnn_backward", *rnn_inputs(rng, 5, 3, 2, 4, 3, torch.float64), "many_to_many", None)


@pytest.mark.task("many_to_one")
@pytest.mark.parametrize(("T", "B", "D", "H", "O", "dtype"), CASES)
def test_many_to_one(grade, rng, T, B, D, H, O, dtype):
    grade.compare("rnn_backward", *rnn_inputs(rng, T, B, D, H, O, dtype, "many_to_one"), "many_to_one", None)


@pytest.mark.task("many_to_one")
@pytest.mark.parametrize("dtype", DTYPES)
def test_many_to_one_saturated(grade, rng, dtype):
    grade.compare("rnn_backward", *saturating_inputs(rng, 6, 3, 4, 5, 2, dtype, "many_to_one"), "many_to_one", None)


@pytest.mark.task("many_to_one")
def test_many_to_one_leaves_arguments_unchanged(grade, rng):
    grade.check_unchanged("rnn_backward", *rnn_inputs(rng, 5, 3, 2, 4, 3, torch.float64, "many_to_one"), "many_to_one")


# (mode, T, truncate): the local term only (0), short windows, a window that stops one step short
# of h0 (T - 1 for many_to_one), and windows as long as the sequence or longer (full BPTT)
TRUNCATIONS = [
    ("many_to_many", 8, 0),
    ("many_to_many", 8, 1),
    ("many_to_many", 8, 3),
    ("many_to_many", 8, 8),
    ("many_to_one", 8, 0),
    ("many_to_one", 8, 2),
    ("many_to_one", 8, 7),
    ("many_to_one", 8, 20),
]


@pytest.mark.task("truncated")
@pytest.mark.parametrize(("mode", "T", "truncate"), TRUNCATIONS)
def test_truncated(grade, rng, mode, T, truncate):
    grade.compare("rnn_backward", *rnn_inputs(rng, T, 3, 4, 5, 2, torch.float64, mode), mode, truncate)


@pytest.mark.task("truncated")
def test_truncated_long_float32(grade, rng):
    grade.compare("rnn_backward", *rnn_inputs(rng, 30, 2, 3, 4, 2, torch.float32), "many_to_many", 4)


@pytest.mark.task("truncated")
@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_saturated(grade, rng, dtype):
    grade.compare("rnn_backward", *saturating_inputs(rng, 8, 2, 3, 4, 2, dtype, "many_to_many"), "many_to_many", 2)


@pytest.mark.task("truncated")
def test_truncated_leaves_arguments_unchanged(grade, rng):
    grade.check_unchanged("rnn_backward", *rnn_inputs(rng, 6, 2, 3, 4, 2, torch.float64), "many_to_many", 2)
