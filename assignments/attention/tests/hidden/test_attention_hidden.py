"""Attention scoring against the reference: shapes (T = 1, long T, B = 1, D != H), dtypes, masks, huge scores."""

import pytest
import torch

from grader.checks import Tolerance, fail

F64, F32 = torch.float64, torch.float32

HUGE_SCORES_F32 = Tolerance(rtol=2e-3, atol=1e-5)
"""float32 weights of scores near 1e4: one float32 step there is 1e-3, so a correct softmax computed another way
(exp(s - logsumexp(s)), say) is off by up to ~5e-4 relative; rtol 1e-4 would fail it on about a third of attempts."""


def huge_tolerance(dtype):
    """The tolerance of a test on huge scores: the assignment's own for float64, :data:`HUGE_SCORES_F32` for float32."""
    return HUGE_SCORES_F32 if dtype == F32 else None


def randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def random_mask(rng, B, T):
    """(B, T) bool with about half the keys masked, every row keeping at least one True; row 0 keeps exactly one."""
    mask = torch.rand(B, T, generator=rng) < 0.5
    keep = torch.randint(0, T, (B,), generator=rng)
    mask[0] = False
    mask[torch.arange(B), keep] = True
    return mask


def dyadic(rng, *shape, scale, dtype=F64):
    """N(0, scale^2) rounded to a multiple of 1/8: the products and sums of such numbers that a score computes are
    exact in float32 as in float64, so every order of summation gives the same scores."""
    return torch.round(8 * scale * randn(rng, *shape, dtype=dtype)) / 8


def huge_scores(rng, B, T, dtype):
    """Scores uniform in [-1e4, 1e4], and a row 0 entirely near -1e4: exp overflows or underflows without care."""
    scores = 1e4 * (2 * torch.rand(B, T, generator=rng, dtype=dtype) - 1)
    scores[0] = -1e4 + torch.rand(T, generator=rng, dtype=dtype)
    return scores


# (T, B, H, dtype): a batch, a single step with batch 1, a long sequence
SHAPES = [
    pytest.param(5, 3, 4, F64, id="T5-B3"),
    pytest.param(1, 1, 6, F32, id="T1-B1-float32"),
    pytest.param(30, 2, 8, F32, id="T30-float32"),
]


@pytest.mark.task("dot")
class TestDotScores:
    @pytest.mark.parametrize("function", ["dot_scores", "scaled_dot_scores"])
    @pytest.mark.parametrize(("T", "B", "H", "dtype"), SHAPES)
    def test_scores(self, grade, rng, function, T, B, H, dtype):
        grade.compare(function, randn(rng, B, H, dtype=dtype), randn(rng, T, B, H, dtype=dtype))

    def test_unchanged(self, grade, rng):
        query, keys = randn(rng, 3, 4), randn(rng, 5, 3, 4)
        grade.check_unchanged("dot_scores", query, keys)
        grade.check_unchanged("scaled_dot_scores", query, keys)


@pytest.mark.task("additive")
class TestAdditiveScores:
    @pytest.mark.parametrize(
        ("T", "B", "Hq", "Hk", "A", "dtype"),
        [
            pytest.param(5, 3, 4, 6, 7, F64, id="T5-B3"),
            pytest.param(1, 1, 3, 2, 5, F32, id="T1-B1-float32"),
            pytest.param(30, 4, 5, 3, 8, F64, id="T30"),
        ],
    )
    def test_scores(self, grade, rng, T, B, Hq, Hk, A, dtype):
        query, keys = randn(rng, B, Hq, dtype=dtype), randn(rng, T, B, Hk, dtype=dtype)
        W_q, W_k, v = randn(rng, A, Hq, dtype=dtype), randn(rng, A, Hk, dtype=dtype), randn(rng, A, dtype=dtype)
        grade.compare("additive_scores", query, keys, W_q, W_k, v)

    @pytest.mark.parametrize(
        ("T", "B", "Hq", "Hk", "A", "dtype"),
        [pytest.param(6, 3, 4, 5, 6, F64, id="float64"), pytest.param(4, 2, 3, 2, 8, F32, id="float32")],
    )
    def test_saturated(self, grade, rng, T, B, Hq, Hk, A, dtype):
        """W_q q + W_k k_j of order 500: tanh is 1 or -1 for most entries, never NaN (e^2z overflows from z = 44 in
        float32, 355 in float64)."""
        query, keys = dyadic(rng, B, Hq, scale=10.0, dtype=dtype), dyadic(rng, T, B, Hk, scale=10.0, dtype=dtype)
        W_q = dyadic(rng, A, Hq, scale=50 * (Hq + Hk) ** -0.5, dtype=dtype)
        W_k = dyadic(rng, A, Hk, scale=50 * (Hq + Hk) ** -0.5, dtype=dtype)
        grade.compare("additive_scores", query, keys, W_q, W_k, randn(rng, A, dtype=dtype))

    def test_unchanged(self, grade, rng):
        T, B, Hq, Hk, A = 4, 2, 3, 5, 6
        args = randn(rng, B, Hq), randn(rng, T, B, Hk), randn(rng, A, Hq), randn(rng, A, Hk), randn(rng, A)
        grade.check_unchanged("additive_scores", *args)


@pytest.mark.task("weights")
class TestAttentionWeights:
    @pytest.mark.parametrize(
        ("B", "T", "dtype", "masked"),
        [
            pytest.param(3, 5, F64, False, id="B3-T5"),
            pytest.param(1, 1, F32, False, id="B1-T1-float32"),
            pytest.param(4, 7, F64, True, id="masked"),
            pytest.param(2, 50, F32, True, id="masked-T50-float32"),
        ],
    )
    def test_weights(self, grade, rng, B, T, dtype, masked):
        scores = 3 * randn(rng, B, T, dtype=dtype)
        if masked:
            grade.compare("attention_weights", scores, random_mask(rng, B, T))
        else:
            grade.compare("attention_weights", scores)

    @pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
    def test_huge_scores(self, grade, rng, dtype):
        B, T = 4, 6
        grade.compare("attention_weights", huge_scores(rng, B, T, dtype), None, tolerance=huge_tolerance(dtype))

    @pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
    def test_huge_scores_masked(self, grade, rng, dtype):
        B, T = 5, 8
        scores, mask = huge_scores(rng, B, T, dtype), random_mask(rng, B, T)
        scores[0] = torch.where(mask[0], -1e4, 1e4)  # row 0's only real key scores far below its padding
        grade.compare("attention_weights", scores, mask, tolerance=huge_tolerance(dtype))

    def test_rows_sum_to_one(self, grade, rng):
        B, T = 4, 6
        scores = randn(rng, B, T)
        weights = grade.call("attention_weights", scores)
        if type(weights) is torch.Tensor and weights.shape == scores.shape:
            sums = weights.sum(dim=-1)
            if not torch.allclose(sums, torch.ones_like(sums)):
                raise fail(
                    "value",
                    "weights",
                    "attention_weights: every row of 'weights' should sum to 1 (the softmax runs over the T keys, "
                    f"the last axis), but the row sums are {[round(float(s), 6) for s in sums]}",
                )
        grade.compare("attention_weights", scores)

    def test_masked_weights_are_exactly_zero(self, grade, rng):
        B, T = 6, 9
        scores, mask = 3 * randn(rng, B, T), random_mask(rng, B, T)
        weights = grade.call("attention_weights", scores, mask)
        if type(weights) is torch.Tensor and weights.shape == scores.shape:
            leaked = weights.detach()[~mask].abs().max()
            if leaked != 0:
                raise fail(
                    "value",
                    "weights",
                    "attention_weights: where mask is False the weight must be exactly 0, "
                    f"but one is {float(leaked):.3g}",
                )
        grade.compare("attention_weights", scores, mask)

    def test_unchanged(self, grade, rng):
        B, T = 3, 5
        grade.check_unchanged("attention_weights", randn(rng, B, T), random_mask(rng, B, T))


@pytest.mark.task("context")
class TestContextVector:
    @pytest.mark.parametrize(
        ("T", "B", "H", "dtype"),
        [
            pytest.param(5, 3, 4, F64, id="T5-B3"),
            pytest.param(1, 1, 6, F32, id="T1-B1-float32"),
            pytest.param(30, 2, 8, F64, id="T30"),
        ],
    )
    def test_context(self, grade, rng, T, B, H, dtype):
        weights = torch.softmax(randn(rng, B, T, dtype=dtype), dim=-1)
        grade.compare("context_vector", weights, randn(rng, T, B, H, dtype=dtype))

    def test_unchanged(self, grade, rng):
        T, B, H = 5, 3, 4
        grade.check_unchanged("context_vector", torch.softmax(randn(rng, B, T), dim=-1), randn(rng, T, B, H))


@pytest.mark.task("attend")
class TestAttend:
    def test_values_default_to_keys(self, grade, rng):
        T, B, H = 5, 3, 4
        grade.compare("attend", randn(rng, B, H), randn(rng, T, B, H))

    def test_separate_values_scaled(self, grade, rng):
        T, B, H, Hv = 6, 2, 4, 7
        query, keys, values = (
            randn(rng, B, H, dtype=F32),
            randn(rng, T, B, H, dtype=F32),
            randn(rng, T, B, Hv, dtype=F32),
        )
        grade.compare("attend", query, keys, values, None, "scaled_dot")

    def test_masked_values_none_long(self, grade, rng):
        T, B, H = 30, 4, 5
        grade.compare("attend", randn(rng, B, H), randn(rng, T, B, H), None, random_mask(rng, B, T), "scaled_dot")

    def test_single_step_batch_one(self, grade, rng):
        T, B, H, Hv = 1, 1, 3, 2
        mask = torch.ones(B, T, dtype=torch.bool)
        grade.compare("attend", randn(rng, B, H), randn(rng, T, B, H), randn(rng, T, B, Hv), mask, "dot")

    @pytest.mark.parametrize(
        ("dtype", "values", "score"),
        [pytest.param(F64, True, "dot", id="float64"), pytest.param(F32, False, "scaled_dot", id="float32")],
    )
    def test_huge_scores_masked(self, grade, rng, dtype, values, score):
        """Scores in the thousands to about 1e4 (H = 4, so that the scaled scores are exact too), under a mask; in
        row 0 every real key scores far below every padded one (k_j = -m q for a real key, +m q for a padded one)."""
        T, B, H, Hv = 7, 4, 4, 3
        query, keys = dyadic(rng, B, H, scale=40.0, dtype=dtype), dyadic(rng, T, B, H, scale=40.0, dtype=dtype)
        mask = random_mask(rng, B, T)
        m = torch.randint(1, 4, (T, 1), generator=rng).to(dtype)
        keys[:, 0] = torch.where(mask[0].unsqueeze(1), -m, m) * query[0]
        values = randn(rng, T, B, Hv, dtype=dtype) if values else None
        grade.compare("attend", query, keys, values, mask, score, tolerance=huge_tolerance(dtype))

    def test_unchanged(self, grade, rng):
        T, B, H, Hv = 5, 3, 4, 6
        args = randn(rng, B, H), randn(rng, T, B, H), randn(rng, T, B, Hv), random_mask(rng, B, T), "scaled_dot"
        grade.check_unchanged("attend", *args)
