"""Mistake: attend always uses the plain dot-product scores, even for score="scaled_dot"."""
import math

import torch


def dot_scores(query, keys):
    return torch.einsum("bh,tbh->bt", query, keys)


def scaled_dot_scores(query, keys):
    return dot_scores(query, keys) / math.sqrt(keys.shape[2])


def additive_scores(query, keys, W_q, W_k, v):
    T, B, _ = keys.shape
    out = torch.empty(B, T, dtype=query.dtype)
    for b in range(B):
        qa = W_q @ query[b]
        for t in range(T):
            out[b, t] = v @ torch.tanh(qa + W_k @ keys[t, b])
    return out


def attention_weights(scores, mask=None):
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    m = scores.max(dim=1, keepdim=True).values
    p = torch.exp(scores - m)
    return p / p.sum(dim=1, keepdim=True)


def context_vector(weights, values):
    return (weights.T[:, :, None] * values).sum(0)


def attend(query, keys, values=None, mask=None, score="dot"):
    if values is None:
        values = keys
    raw = torch.einsum("bh,tbh->bt", query, keys)  # the attention scores
    w = attention_weights(raw, mask)
    return context_vector(w, values), w
