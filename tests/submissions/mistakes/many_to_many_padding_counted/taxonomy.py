"""Mistake: many_to_many_loss sums the per-step losses over all T steps, padded steps included."""
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
    n_steps, n_seq, _ = logits.shape
    if lengths is None:
        last_index = torch.full((n_seq,), n_steps - 1, dtype=torch.long)
    else:
        last_index = lengths - 1
    chosen = logits.gather(0, last_index.view(1, n_seq, 1).expand(1, n_seq, logits.shape[2]))[0]
    return F.cross_entropy(chosen, target)


def many_to_many_loss(logits, targets, lengths=None):
    n_steps, n_seq, n_cls = logits.shape
    everything = F.cross_entropy(logits.reshape(-1, n_cls), targets.reshape(-1), reduction="sum")
    return everything / n_seq


def one_to_many_loss(logits, targets):
    return many_to_many_loss(logits, targets)
