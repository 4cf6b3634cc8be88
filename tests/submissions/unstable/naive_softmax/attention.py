"""Right but for one thing: the softmax exponentiates the raw scores, e^s / sum e^s, without subtracting the
row's largest score: inf / inf or 0 / 0 = NaN for scores beyond about 88 (float32) or 709 (float64)."""
import math

import torch


def dot_scores(query, keys):
    return torch.einsum("bh,tbh->bt", query, keys)


def scaled_dot_scores(query, keys):
    return dot_scores(query, keys) / math.sqrt(query.shape[-1])


def additive_scores(query, keys, W_q, W_k, v):
    return torch.einsum("tba,a->bt", torch.tanh(query @ W_q.T + keys @ W_k.T), v)


def attention_weights(scores, mask=None):
    e = torch.exp(scores)
    if mask is not None:
        e = e * mask
    return e / e.sum(dim=-1, keepdim=True)


def context_vector(weights, values):
    return torch.einsum("bt,tbh->bh", weights, values)


def attend(query, keys, values=None, mask=None, score="dot"):
    if score == "dot":
        scores = dot_scores(query, keys)
    elif score == "scaled_dot":
        scores = scaled_dot_scores(query, keys)
    else:
        raise ValueError(f"unknown score {score}")
    weights = attention_weights(scores, mask)
    return context_vector(weights, keys if values is None else values), weights
