"""Mistake: the sequence losses use F.cross_entropy's default mean over all T*B steps (padding included)."""
import torch
import torch.nn.functional as F

PROBLEM_KINDS = {
    "image_captioning": "one_to_many",
    "sentiment_analysis": "many_to_one",
    "speech_to_text": "many_to_many",
    "machine_translation": "many_to_many",
    "named_entity_recognition": "many_to_many_synced",
    "video_frame_labeling": "many_to_many_synced",
    "time_series_forecast_next_value": "many_to_one",
}


def many_to_one_loss(logits, target, lengths=None):
    rows = []
    for b in range(logits.shape[1]):
        last = logits.shape[0] if lengths is None else lengths[b].item()
        rows.append(logits[last - 1, b])
    return F.cross_entropy(torch.stack(rows), target)


def many_to_many_loss(logits, targets, lengths=None):
    C = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, C), targets.reshape(-1))


def one_to_many_loss(logits, targets):
    C = logits.shape[-1]
    return F.cross_entropy(logits.view(-1, C), targets.view(-1))
