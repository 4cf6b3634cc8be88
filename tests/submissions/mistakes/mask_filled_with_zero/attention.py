"""Mistake: the scores are multiplied by the mask, so padded keys get score 0 rather than -inf."""
import math

import torch


def dot_scores(query, keys):
    return torch.einsum("tbh,bh->bt", keys, query)


def scaled_dot_scores(query, keys):
    return torch.einsum("tbh,bh->bt", keys, query) / math.sqrt(query.size(-1))


def additive_scores(query, keys, W_q, W_k, v):
    energy = torch.tanh(torch.einsum("aq,bq->ba", W_q, query) + torch.einsum("ak,tbk->tba", W_k, keys))
    return torch.einsum("tba,a->bt", energy, v)


def attention_weights(scores, mask=None):
    if mask is not None:
        scores = scores * mask  # switch off the padding
    top = scores.amax(dim=1, keepdim=True)
    ex = (scores - top).exp()
    return ex / ex.sum(dim=1, keepdim=True)


def context_vector(weights, values):
    return torch.einsum("bt,tbh->bh", weights, values)


def attend(query, keys, values=None, mask=None, score="dot"):
    scorer = {"dot": dot_scores, "scaled_dot": scaled_dot_scores}[score]
    weights = attention_weights(scorer(query, keys), mask)
    return context_vector(weights, keys if values is None else values), weights
