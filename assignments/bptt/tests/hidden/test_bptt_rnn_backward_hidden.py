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
def test_truncated_leaves_arguments_unchanged(grade, rng):
    grade.check_unchanged("rnn_backward", *rnn_inputs(rng, 6, 2, 3, 4, 2, torch.float64), "many_to_many", 2)
