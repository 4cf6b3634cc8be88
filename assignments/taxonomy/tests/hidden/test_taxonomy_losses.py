"""The three losses against the reference: padding, batch and time accumulation, dtypes, large logits."""

import pytest
import torch

F64, F32 = torch.float64, torch.float32

# (T, B, C, dtype, lengths): lengths "omit" (not passed), "none" (None passed), "full" (all T: no padding),
# "mixed" (1..T, one sequence of length 1 and one of length T) or "one" (a single sequence of length 1)
CASES = [
    pytest.param(5, 4, 3, F64, "omit", id="batch4"),
    pytest.param(1, 3, 4, F32, "omit", id="T1-float32"),
    pytest.param(7, 1, 5, F64, "none", id="batch1-lengthsNone"),
    pytest.param(6, 4, 3, F64, "full", id="no-padding"),
    pytest.param(6, 5, 4, F64, "mixed", id="padded"),
    pytest.param(30, 8, 7, F32, "mixed", id="padded-T30-float32"),
    pytest.param(5, 1, 4, F64, "one", id="batch1-length1"),
]
ONE_TO_MANY_CASES = [
    pytest.param(5, 4, 3, F64, id="batch4"),
    pytest.param(1, 3, 4, F32, id="T1-float32"),
    pytest.param(7, 1, 5, F64, id="batch1"),
    pytest.param(30, 6, 10, F32, id="T30-float32"),
]
# large logits: around 1e3 (exp overflows) and spread by 1e3 (softmax probabilities underflow to 0)
LARGE = [pytest.param(1.0, 1e3, F64, id="offset1e3"), pytest.param(1e3, 0.0, F32, id="scale1e3-float32")]


def make_logits(rng, T, B, C, dtype, scale=1.0, offset=0.0):
    return offset + scale * torch.randn(T, B, C, generator=rng, dtype=dtype)


def classes(rng, shape, C):
    return torch.randint(0, C, shape, generator=rng)


def make_lengths(rng, T, B, kind="mixed"):
    """The lengths argument(s): none, None, or a (B,) int64 tensor of lengths in 1..T."""
    if kind == "omit":
        return ()
    if kind == "none":
        return (None,)
    if kind == "full":
        return (torch.full((B,), T, dtype=torch.int64),)
    if kind == "one":
        return (torch.ones(B, dtype=torch.int64),)
    lengths = torch.randint(1, T + 1, (B,), generator=rng)
    lengths[0] = 1
    lengths[-1] = T
    return (lengths,)


@pytest.mark.task("many_to_one")
class TestManyToOne:
    @pytest.mark.parametrize(("T", "B", "C", "dtype", "lengths"), CASES)
    def test_loss(self, grade, rng, T, B, C, dtype, lengths):
        logits = make_logits(rng, T, B, C, dtype)
        grade.compare("many_to_one_loss", logits, classes(rng, (B,), C), *make_lengths(rng, T, B, lengths))

    @pytest.mark.parametrize(("scale", "offset", "dtype"), LARGE)
    def test_large_logits(self, grade, rng, scale, offset, dtype):
        T, B, C = 5, 4, 6
        logits = make_logits(rng, T, B, C, dtype, scale, offset)
        grade.compare("many_to_one_loss", logits, classes(rng, (B,), C), *make_lengths(rng, T, B))

    def test_unchanged(self, grade, rng):
        T, B, C = 5, 3, 4
        logits = make_logits(rng, T, B, C, F64)
        grade.check_unchanged("many_to_one_loss", logits, classes(rng, (B,), C), *make_lengths(rng, T, B))


@pytest.mark.task("many_to_many")
class TestManyToMany:
    @pytest.mark.parametrize(("T", "B", "C", "dtype", "lengths"), CASES)
    def test_loss(self, grade, rng, T, B, C, dtype, lengths):
        logits = make_logits(rng, T, B, C, dtype)
        grade.compare("many_to_many_loss", logits, classes(rng, (T, B), C), *make_lengths(rng, T, B, lengths))

    @pytest.mark.parametrize(("scale", "offset", "dtype"), LARGE)
    def test_large_logits(self, grade, rng, scale, offset, dtype):
        T, B, C = 5, 4, 6
        logits = make_logits(rng, T, B, C, dtype, scale, offset)
        grade.compare("many_to_many_loss", logits, classes(rng, (T, B), C), *make_lengths(rng, T, B))

    def test_unchanged(self, grade, rng):
        T, B, C = 5, 3, 4
        logits = make_logits(rng, T, B, C, F64)
        grade.check_unchanged("many_to_many_loss", logits, classes(rng, (T, B), C), *make_lengths(rng, T, B))


@pytest.mark.task("one_to_many")
class TestOneToMany:
    @pytest.mark.parametrize(("T", "B", "C", "dtype"), ONE_TO_MANY_CASES)
    def test_loss(self, grade, rng, T, B, C, dtype):
        grade.compare("one_to_many_loss", make_logits(rng, T, B, C, dtype), classes(rng, (T, B), C))

    @pytest.mark.parametrize(("scale", "offset", "dtype"), LARGE)
    def test_large_logits(self, grade, rng, scale, offset, dtype):
        T, B, C = 5, 4, 6
        grade.compare("one_to_many_loss", make_logits(rng, T, B, C, dtype, scale, offset), classes(rng, (T, B), C))

    def test_unchanged(self, grade, rng):
        T, B, C = 5, 3, 4
        grade.check_unchanged("one_to_many_loss", make_logits(rng, T, B, C, F64), classes(rng, (T, B), C))
