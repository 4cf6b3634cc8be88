"""Mistake: attention_weights exponentiates the raw scores without subtracting the row maximum."""
import math

import torch


def dot_scores(query, keys):
    return (keys.unsqueeze(-2) @ query.unsqueeze(-1)).flatten(1).T  # (T, B, 1, H) @ (B, H, 1) -> (T, B, 1, 1)


def scaled_dot_scores(query, keys):
    return dot_scores(query, keys) / math.sqrt(query.shape[-1])


def additive_scores(query, keys, W_q, W_k, v):
    proj = keys @ W_k.T + (query @ W_q.T).unsqueeze(0)
    return (torch.tanh(proj) * v).sum(-1).T


def attention_weights(scores, mask=None):
    numer = torch.exp(scores)
    if mask is not None:
        numer = torch.where(mask, numer, torch.zeros_like(numer))
    denom = numer.sum(dim=-1, keepdim=True)
    return numer / denom


def context_vector(weights, values):
    T, B, Hv = values.shape
    ctx = torch.zeros(B, Hv, dtype=values.dtype)
    for t in range(T):
        ctx = ctx + weights[:, t : t + 1] * values[t]
    return ctx


def attend(query, keys, values=None, mask=None, score="dot"):
    vals = keys if values is None else values
    if score == "dot":
        s = dot_scores(query, keys)
    elif score == "scaled_dot":
        s = scaled_dot_scores(query, keys)
    else:
        raise ValueError("unknown score " + repr(score))
    a = attention_weights(s, mask)
    return context_vector(a, vals), a
