"""A typical student submission: dot_scores multiplies in the wrong order and crashes."""
import math

import torch


def dot_scores(query, keys):
    return (keys @ query.T).T


def scaled_dot_scores(query, keys):
    return dot_scores(query, keys) / math.sqrt(query.shape[-1])


def additive_scores(query, keys, W_q, W_k, v):
    projected = torch.tanh(query @ W_q.T + keys @ W_k.T)  # (T, B, A)
    return (projected @ v).T


def attention_weights(scores, mask=None):
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    scores = scores - scores.max(dim=1, keepdim=True).values
    e = torch.exp(scores)
    return e / e.sum(dim=1, keepdim=True)


def context_vector(weights, values):
    return torch.einsum("bt,tbh->bh", weights, values)


def attend(query, keys, values=None, mask=None, score="dot"):
    values = keys if values is None else values
    scores = dot_scores(query, keys) if score == "dot" else scaled_dot_scores(query, keys)
    weights = attention_weights(scores, mask)
    return context_vector(weights, values), weights
