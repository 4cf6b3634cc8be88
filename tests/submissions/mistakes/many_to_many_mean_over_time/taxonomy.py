"""Mistake: the per-step losses are averaged over each sequence's steps instead of summed over time."""
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


def step_losses(logits, targets):
    logp = torch.log_softmax(logits, dim=-1)
    return -logp.gather(2, targets[..., None])[..., 0]  # (T, B)


def many_to_one_loss(logits, target, lengths=None):
    T, B, C = logits.shape
    idx = torch.full((B,), T - 1) if lengths is None else lengths - 1
    last = logits[idx, torch.arange(B)]
    return -torch.log_softmax(last, dim=1)[torch.arange(B), target].mean()


def many_to_many_loss(logits, targets, lengths=None):
    T, B, C = logits.shape
    losses = step_losses(logits, targets)
    if lengths is None:
        lengths = torch.full((B,), T)
    keep = (torch.arange(T)[:, None] < lengths[None, :]).to(logits.dtype)
    per_sequence = (losses * keep).sum(0) / keep.sum(0)  # average loss per step of each sequence
    return per_sequence.mean()


def one_to_many_loss(logits, targets):
    return step_losses(logits, targets).mean(dim=0).mean()
