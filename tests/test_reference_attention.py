"""The attention reference against explicit loops, torch.softmax and torch's scaled_dot_product_attention."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import load_reference

ref = load_reference("attention")

# (T, B, H): a batch, batch 1, a single step, a long sequence
SHAPES = [(5, 3, 4), (6, 1, 3), (1, 4, 5), (40, 2, 8)]
DTYPES = [torch.float64, torch.float32]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def close(got, expected):
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    tol = 1e-10 if got.dtype == torch.float64 else 1e-5
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol)


def random_mask(g, B, T):
    mask = torch.rand(B, T, generator=g) < 0.5
    mask[torch.arange(B), torch.randint(0, T, (B,), generator=g)] = True
    return mask


def loop_dot(query, keys):
    T, B = keys.shape[:2]
    out = torch.empty(B, T, dtype=query.dtype)
    for b in range(B):
        for j in range(T):
            out[b, j] = torch.dot(query[b], keys[j, b])
    return out


def loop_masked_softmax(scores, mask):
    out = torch.zeros_like(scores)
    for b in range(scores.shape[0]):
        out[b, mask[b]] = torch.softmax(scores[b, mask[b]], dim=-1)
    return out


def sdpa(query, keys, values, mask, scale):
    """torch's attention with one query per batch element: (B, 1, H) against (B, T, H) -> (B, H_v)."""
    attn_mask = None if mask is None else mask.unsqueeze(1)  # (B, 1, T)
    out = F.scaled_dot_product_attention(
        query.unsqueeze(1), keys.transpose(0, 1), values.transpose(0, 1), attn_mask=attn_mask, scale=scale
    )
    return out.squeeze(1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_dot_and_scaled_dot_scores(shape, dtype):
    T, B, H = shape
    g = gen()
    query, keys = torch.randn(B, H, generator=g, dtype=dtype), torch.randn(T, B, H, generator=g, dtype=dtype)
    close(ref.dot_scores(query, keys), loop_dot(query, keys))
    close(ref.scaled_dot_scores(query, keys), loop_dot(query, keys) / math.sqrt(H))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "Hq", "Hk", "A"), [(5, 3, 4, 6, 7), (1, 1, 3, 2, 5), (30, 4, 5, 3, 8)])
def test_additive_scores(T, B, Hq, Hk, A, dtype):
    g = gen(1)
    query, keys = torch.randn(B, Hq, generator=g, dtype=dtype), torch.randn(T, B, Hk, generator=g, dtype=dtype)
    W_q, W_k = torch.randn(A, Hq, generator=g, dtype=dtype), torch.randn(A, Hk, generator=g, dtype=dtype)
    v = torch.randn(A, generator=g, dtype=dtype)
    expected = torch.empty(B, T, dtype=dtype)
    for b in range(B):
        for j in range(T):
            expected[b, j] = v @ torch.tanh(W_q @ query[b] + W_k @ keys[j, b])
    close(ref.additive_scores(query, keys, W_q, W_k, v), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("B", "T"), [(3, 5), (1, 1), (2, 50)])
def test_attention_weights(B, T, dtype):
    g = gen(2)
    scores = 3 * torch.randn(B, T, generator=g, dtype=dtype)
    mask = random_mask(g, B, T)
    close(ref.attention_weights(scores), torch.softmax(scores, dim=-1))
    close(ref.attention_weights(scores, None), torch.softmax(scores, dim=-1))
    weights = ref.attention_weights(scores, mask)
    close(weights, loop_masked_softmax(scores, mask))
    assert bool((weights[~mask] == 0).all())
    close(weights.sum(dim=-1), torch.ones(B, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_weights_huge_scores(dtype):
    g = gen(3)
    B, T = 5, 8
    scores = 1e4 * (2 * torch.rand(B, T, generator=g, dtype=dtype) - 1)
    mask = random_mask(g, B, T)
    mask[0] = False
    mask[0, 3] = True
    scores[0] = torch.where(mask[0], -1e4, 1e4)
    scores[1] = -1e4 + torch.rand(T, generator=g, dtype=dtype)
    for m in (None, mask):
        weights = ref.attention_weights(scores, m)
        assert bool(torch.isfinite(weights).all())
        close(weights, torch.softmax(scores, -1) if m is None else loop_masked_softmax(scores, m))
    assert ref.attention_weights(scores, mask)[0].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "H"), SHAPES)
def test_context_vector(T, B, H, dtype):
    g = gen(4)
    weights = torch.softmax(torch.randn(B, T, generator=g, dtype=dtype), dim=-1)
    values = torch.randn(T, B, H, generator=g, dtype=dtype)
    expected = torch.zeros(B, H, dtype=dtype)
    for b in range(B):
        for j in range(T):
            expected[b] += weights[b, j] * values[j, b]
    close(ref.context_vector(weights, values), expected)
    close(ref.context_vector(weights, values), torch.einsum("bt,tbh->bh", weights, values))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("T", "B", "H"), SHAPES)
@pytest.mark.parametrize(("score", "scale"), [("dot", 1.0), ("scaled_dot", None)])
def test_attend_is_torch_attention(T, B, H, dtype, score, scale):
    g = gen(5)
    Hv = H + 2
    query, keys = torch.randn(B, H, generator=g, dtype=dtype), torch.randn(T, B, H, generator=g, dtype=dtype)
    values = torch.randn(T, B, Hv, generator=g, dtype=dtype)
    mask = random_mask(g, B, T)
    scores = loop_dot(query, keys) * (1.0 if scale else 1 / math.sqrt(H))
    for v, m in [(None, None), (values, None), (None, mask), (values, mask)]:
        context, weights = ref.attend(query, keys, v, m, score)
        close(context, sdpa(query, keys, keys if v is None else v, m, scale))
        close(weights, torch.softmax(scores, -1) if m is None else loop_masked_softmax(scores, m))
    context, weights = ref.attend(query, keys) if score == "dot" else ref.attend(query, keys, score=score)
    close(context, sdpa(query, keys, keys, None, scale))


def test_attend_rejects_an_unknown_score():
    with pytest.raises(ValueError, match="additive"):
        ref.attend(torch.zeros(1, 2), torch.zeros(3, 1, 2), score="additive")


def test_arguments_unchanged():
    g = gen(6)
    query, keys, values = torch.randn(2, 3, generator=g), torch.randn(4, 2, 3, generator=g), torch.randn(4, 2, 5)
    W_q, W_k, v = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g), torch.randn(6, generator=g)
    mask = random_mask(g, 2, 4)
    args = (query, keys, values, W_q, W_k, v, mask)
    copies = [a.clone() for a in args]
    ref.additive_scores(query, keys, W_q, W_k, v)
    ref.attend(query, keys, values, mask, "scaled_dot")
    ref.context_vector(ref.attention_weights(ref.scaled_dot_scores(query, keys), mask), values)
    for a, b in zip(args, copies, strict=True):
        assert torch.equal(a, b)
