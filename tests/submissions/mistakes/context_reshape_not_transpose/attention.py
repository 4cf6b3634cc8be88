"""Mistake: context_vector reshapes the (B, T) weights to (T, B) instead of transposing them."""
import math

import torch


def dot_scores(query, keys):
    return (query.unsqueeze(0) * keys).sum(-1).permute(1, 0)


def scaled_dot_scores(query, keys):
    return dot_scores(query, keys) * (1.0 / math.sqrt(query.shape[-1]))


def additive_scores(query, keys, W_q, W_k, v):
    combined = torch.tanh(query @ W_q.T + keys @ W_k.T)  # (T, B, A)
    return (combined @ v).permute(1, 0)


def attention_weights(scores, mask=None):
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=1)


def context_vector(weights, values):
    T, B, _ = values.shape
    w = weights.reshape(T, B, 1)  # to line up with the (T, B, H) values
    return (w * values).sum(dim=0)


def attend(query, keys, values=None, mask=None, score="dot"):
    if values is None:
        values = keys
    scores = dot_scores(query, keys) if score == "dot" else scaled_dot_scores(query, keys)
    weights = attention_weights(scores, mask)
    return context_vector(weights, values), weights
