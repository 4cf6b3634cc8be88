"""Mistake: attention_weights never uses the mask, so padded keys receive weight."""
import torch


def dot_scores(query, keys):
    T, B, H = keys.shape
    out = torch.zeros(B, T, dtype=query.dtype)
    for t in range(T):
        out[:, t] = (query * keys[t]).sum(dim=1)
    return out


def scaled_dot_scores(query, keys):
    H = query.shape[1]
    return dot_scores(query, keys) / H**0.5


def additive_scores(query, keys, W_q, W_k, v):
    T = keys.shape[0]
    cols = []
    for t in range(T):
        hidden = torch.tanh(query @ W_q.T + keys[t] @ W_k.T)  # (B, A)
        cols.append(hidden @ v)
    return torch.stack(cols, dim=1)


def attention_weights(scores, mask=None):
    # a stable softmax over the keys
    return torch.softmax(scores, dim=-1)


def context_vector(weights, values):
    return torch.bmm(weights.unsqueeze(1), values.transpose(0, 1)).squeeze(1)


def attend(query, keys, values=None, mask=None, score="dot"):
    if score not in ("dot", "scaled_dot"):
        raise ValueError(score)
    scores = dot_scores(query, keys) if score == "dot" else scaled_dot_scores(query, keys)
    weights = attention_weights(scores, mask)
    return context_vector(weights, keys if values is None else values), weights
