"""Attention scoring: how much a query attends to each of T keys, and what it reads from the values.

    dot:         s_j = q . k_j                                          (1)
    scaled dot:  s_j = q . k_j / sqrt(H)                                (2)
    additive:    s_j = v . tanh(W_q q + W_k k_j)                        (3)
    weights:     a_j = exp(s_j) / sum_{j'} exp(s_{j'})   (softmax over the T keys; masked keys get 0)  (4)
    context:     c = sum_j a_j V_j                                      (5)

One query per batch element: query is (B, H). Keys and values V are time-major, as the RNN's hidden
states are: keys (T, B, H), values (T, B, H_v). Scores and weights are (B, T); mask is (B, T) bool,
True for a real key and False for padding.
"""

import math

import torch
from torch import Tensor


def dot_scores(query: Tensor, keys: Tensor) -> Tensor:
    """Equation (1) for every key.

    query (B, H), keys (T, B, H) -> scores (B, T)
    """
    ### BEGIN SOLUTION
    scores = torch.einsum("bh,tbh->bt", query, keys)
    return scores
    ### END SOLUTION


def scaled_dot_scores(query: Tensor, keys: Tensor) -> Tensor:
    """Equation (2): the dot scores divided by the square root of the key size H.

    query (B, H), keys (T, B, H) -> scores (B, T)
    """
    ### BEGIN SOLUTION
    H = query.shape[-1]
    scores = dot_scores(query, keys) / math.sqrt(H)
    return scores
    ### END SOLUTION


def additive_scores(query: Tensor, keys: Tensor, W_q: Tensor, W_k: Tensor, v: Tensor) -> Tensor:
    """Equation (3), Bahdanau's additive score, for every key.

    query (B, H_q), keys (T, B, H_k), W_q (A, H_q), W_k (A, H_k), v (A,) -> scores (B, T)
    """
    ### BEGIN SOLUTION
    hidden = torch.tanh(query @ W_q.T + keys @ W_k.T)  # (B, A) + (T, B, A) -> (T, B, A)
    scores = (hidden @ v).T  # (T, B) -> (B, T)
    return scores
    ### END SOLUTION


def attention_weights(scores: Tensor, mask: Tensor | None = None) -> Tensor:
    """Equation (4): the softmax of the scores over the T keys, each row summing to 1.

    scores (B, T), mask (B, T) bool or None (no padding) -> weights (B, T)
    Where mask is False the weight is exactly 0; every row of mask has at least one True.
    Must stay finite for scores as large as 1e4 in magnitude.
    """
    ### BEGIN SOLUTION
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    shifted = scores - scores.max(dim=-1, keepdim=True).values  # the largest valid score becomes 0
    e = torch.exp(shifted)  # exp(-inf) = 0 at padding
    weights = e / e.sum(dim=-1, keepdim=True)
    return weights
    ### END SOLUTION


def context_vector(weights: Tensor, values: Tensor) -> Tensor:
    """Equation (5): the weighted sum of the values.

    weights (B, T), values (T, B, H_v) -> context (B, H_v)
    """
    ### BEGIN SOLUTION
    context = torch.einsum("bt,tbh->bh", weights, values)
    return context
    ### END SOLUTION


def attend(
    query: Tensor, keys: Tensor, values: Tensor | None = None, mask: Tensor | None = None, score: str = "dot"
) -> tuple[Tensor, Tensor]:
    """Equations (1) or (2), then (4) and (5): attend from the query over the keys and read the values.

    query (B, H), keys (T, B, H), values (T, B, H_v) or None (the values are the keys),
    mask (B, T) bool or None, score "dot" or "scaled_dot" -> context (B, H_v), weights (B, T)
    """
    ### BEGIN SOLUTION
    if values is None:
        values = keys
    if score == "dot":
        scores = dot_scores(query, keys)
    elif score == "scaled_dot":
        scores = scaled_dot_scores(query, keys)
    else:
        raise ValueError(f"score must be 'dot' or 'scaled_dot', got {score!r}")
    weights = attention_weights(scores, mask)
    context = context_vector(weights, values)
    return context, weights
    ### END SOLUTION


# ---------------------------------------------------------------- red team, issue 11: a reply that reaches the grader


def additive_scores(query, keys, W_q, W_k, v):  # noqa: F811
    """96 MB of float64, under the largest frame the grader reads: it arrives, and must be let go after its test."""
    return torch.zeros(12_000_000, dtype=torch.float64)
