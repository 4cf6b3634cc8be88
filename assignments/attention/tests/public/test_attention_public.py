"""Tests you can run yourself: each function against explicit loops or PyTorch's own softmax and attention.

The graded (hidden) tests check more: other shapes, T = 1 and long T, float32, scores as large as 1e4, masks.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from grader.checks import SIX_DECIMALS


def inputs(T=5, B=3, H=4):
    g = torch.Generator().manual_seed(0)
    query = torch.randn(B, H, generator=g, dtype=torch.float64)
    keys = torch.randn(T, B, H, generator=g, dtype=torch.float64)
    return query, keys


def loop_dot(query, keys):
    T, B = keys.shape[:2]
    return torch.tensor([[float(query[b] @ keys[j, b]) for j in range(T)] for b in range(B)], dtype=query.dtype)


@pytest.mark.task("dot")
def test_dot_scores(grade):
    query, keys = inputs()
    grade.expect("dot_scores", query, keys, expected=loop_dot(query, keys))


@pytest.mark.task("dot")
def test_scaled_dot_scores(grade):
    query, keys = inputs()
    H = query.shape[-1]
    grade.expect("scaled_dot_scores", query, keys, expected=loop_dot(query, keys) / math.sqrt(H))


@pytest.mark.task("additive")
def test_additive_scores(grade):
    T, B, Hq, Hk, A = 5, 3, 4, 2, 6
    g = torch.Generator().manual_seed(1)
    query, keys = (
        torch.randn(B, Hq, generator=g, dtype=torch.float64),
        torch.randn(T, B, Hk, generator=g, dtype=torch.float64),
    )
    W_q, W_k = (
        torch.randn(A, Hq, generator=g, dtype=torch.float64),
        torch.randn(A, Hk, generator=g, dtype=torch.float64),
    )
    v = torch.randn(A, generator=g, dtype=torch.float64)
    expected = torch.tensor(
        [[float(v @ torch.tanh(W_q @ query[b] + W_k @ keys[j, b])) for j in range(T)] for b in range(B)],
        dtype=torch.float64,
    )
    grade.expect("additive_scores", query, keys, W_q, W_k, v, expected=expected)


@pytest.mark.task("weights")
def test_weights_worked_example(grade):
    # exp(0) : exp(ln 3) = 1 : 3, so the weights are 1/4 and 3/4; the masked middle key gets 0
    scores = torch.tensor([[0.0, 5.0, math.log(3.0)]], dtype=torch.float64)
    mask = torch.tensor([[True, False, True]])
    expected = torch.tensor([[0.25, 0.0, 0.75]], dtype=torch.float64)
    grade.expect("attention_weights", scores, mask, expected=expected, tolerance=SIX_DECIMALS)


@pytest.mark.task("weights")
def test_weights_are_torch_softmax(grade):
    scores = torch.randn(3, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    grade.expect("attention_weights", scores, expected=torch.softmax(scores, dim=-1))


@pytest.mark.task("weights")
def test_weights_masked_and_large(grade):
    scores = torch.tensor([[1000.0, 2000.0, 1999.0], [-1000.0, 3000.0, -999.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True], [True, False, True]])
    expected = torch.zeros_like(scores)
    for b in range(scores.shape[0]):  # the softmax over each row's unmasked keys only
        expected[b, mask[b]] = torch.softmax(scores[b, mask[b]], dim=-1)
    grade.expect("attention_weights", scores, mask, expected=expected)


@pytest.mark.task("context")
def test_context_vector(grade):
    _, values = inputs(H=6)
    T, B = values.shape[:2]
    weights = torch.softmax(torch.randn(B, T, generator=torch.Generator().manual_seed(3), dtype=torch.float64), dim=-1)
    expected = torch.stack([sum(weights[b, j] * values[j, b] for j in range(T)) for b in range(B)])
    grade.expect("context_vector", weights, values, expected=expected)


def sdpa(query, keys, values, mask, scale):
    """PyTorch's attention for one query per batch element: (B, 1, H) against (B, T, H)."""
    out = F.scaled_dot_product_attention(
        query.unsqueeze(1), keys.transpose(0, 1), values.transpose(0, 1), attn_mask=mask.unsqueeze(1), scale=scale
    )
    return out.squeeze(1)  # (B, H_v)


@pytest.mark.task("attend")
def test_attend_dot_values_default_to_keys(grade):
    query, keys = inputs()
    mask = torch.ones(keys.shape[1], keys.shape[0], dtype=torch.bool)
    grade.expect(
        "attend",
        query,
        keys,
        expected=(sdpa(query, keys, keys, mask, scale=1.0), torch.softmax(loop_dot(query, keys), dim=-1)),
    )


@pytest.mark.task("attend")
def test_attend_scaled_dot_with_mask(grade):
    query, keys = inputs(T=6, B=2, H=4)
    values = torch.randn(6, 2, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    mask = torch.tensor([[True, True, False, True, False, False], [False, False, False, True, False, False]])
    H = query.shape[-1]
    scores = (loop_dot(query, keys) / math.sqrt(H)).masked_fill(~mask, -math.inf)
    expected = (sdpa(query, keys, values, mask, scale=None), torch.softmax(scores, dim=-1))
    grade.expect("attend", query, keys, values, mask, "scaled_dot", expected=expected)
