"""Mistake: scaled_dot_scores divides the dot product by H rather than by sqrt(H)."""
import torch


def dot_scores(query, keys):
    return torch.stack([(query * k).sum(-1) for k in keys], dim=-1)


def scaled_dot_scores(query, keys):
    hidden = query.shape[-1]
    return dot_scores(query, keys) / hidden  # normalise by the size


def additive_scores(query, keys, W_q, W_k, v):
    a = torch.tanh(keys @ W_k.T + query @ W_q.T)
    return torch.tensordot(a, v, dims=1).T


def attention_weights(scores, mask=None):
    s = scores if mask is None else scores.masked_fill(mask.logical_not(), float("-inf"))
    return torch.softmax(s, dim=-1)


def context_vector(weights, values):
    return torch.einsum("bt,tbh->bh", weights, values)


def attend(query, keys, values=None, mask=None, score="dot"):
    values = keys if values is None else values
    scores = scaled_dot_scores(query, keys) if score == "scaled_dot" else dot_scores(query, keys)
    weights = attention_weights(scores, mask)
    return context_vector(weights, values), weights
