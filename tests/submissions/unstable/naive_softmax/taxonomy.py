"""Right but for one thing: the cross-entropy takes log(sum(e^z)) as it reads, without subtracting the largest
logit, which overflows to inf for logits beyond about 88 (float32) or 709 (float64)."""
import torch

PROBLEM_KINDS = {
    "image_captioning": "one_to_many",
    "sentiment_analysis": "many_to_one",
    "speech_to_text": "many_to_many",
    "machine_translation": "many_to_many",
    "named_entity_recognition": "many_to_many_synced",
    "video_frame_labeling": "many_to_many_synced",
    "time_series_forecast_next_value": "many_to_one",
}


def cross_entropy(z, y):
    """-log softmax(z)[y] for z (..., C) and y (...)."""
    return torch.log(torch.exp(z).sum(-1)) - z.gather(-1, y.unsqueeze(-1)).squeeze(-1)


def many_to_one_loss(logits, target, lengths=None):
    T, B, _ = logits.shape
    last = torch.full((B,), T - 1) if lengths is None else lengths - 1
    return cross_entropy(logits[last, torch.arange(B)], target).mean()


def many_to_many_loss(logits, targets, lengths=None):
    T, B, _ = logits.shape
    per_step = cross_entropy(logits, targets)
    if lengths is not None:
        per_step = per_step * (torch.arange(T).unsqueeze(1) < lengths)
    return per_step.sum(0).mean()


def one_to_many_loss(logits, targets):
    return many_to_many_loss(logits, targets)
