"""Mistake: attention_weights takes the softmax over dim 0 (the batch) instead of over the T keys."""
import math

import torch


def dot_scores(query, keys):
    # (T, B, H) * (1, B, H) summed over H -> (T, B)
    return (keys * query.unsqueeze(0)).sum(dim=2).transpose(0, 1)


def scaled_dot_scores(query, keys):
    return dot_scores(query, keys) / math.sqrt(keys.shape[-1])


def additive_scores(query, keys, W_q, W_k, v):
    q_part = torch.matmul(query, W_q.t())  # (B, A)
    k_part = torch.matmul(keys, W_k.t())  # (T, B, A)
    return torch.matmul(torch.tanh(k_part + q_part), v).t()


def attention_weights(scores, mask=None):
    if mask is not None:
        scores = torch.where(mask, scores, torch.full_like(scores, float("-inf")))
    return torch.softmax(scores, dim=0)


def context_vector(weights, values):
    return (weights.t().unsqueeze(-1) * values).sum(dim=0)


def attend(query, keys, values=None, mask=None, score="dot"):
    if values is None:
        values = keys
    s = scaled_dot_scores(query, keys) if score == "scaled_dot" else dot_scores(query, keys)
    w = attention_weights(s, mask)
    return context_vector(w, values), w
