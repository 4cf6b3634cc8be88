"""Correct, and stable for huge logits, but written differently from the reference: the cross-entropy from
torch.log_softmax, the padding dropped with a boolean index."""
import torch

PROBLEM_KINDS = dict(
    image_captioning="one_to_many",
    sentiment_analysis="many_to_one",
    speech_to_text="many_to_many",
    machine_translation="many_to_many",
    named_entity_recognition="many_to_many_synced",
    video_frame_labeling="many_to_many_synced",
    time_series_forecast_next_value="many_to_one",
)


def nll(logits, targets):
    """-log softmax(logits)[target] for every step, (T, B, C) and (T, B) -> (T, B)."""
    return -torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def many_to_one_loss(logits, target, lengths=None):
    T, B, _ = logits.shape
    steps = torch.full((B,), T - 1) if lengths is None else lengths - 1
    return nll(logits[steps, torch.arange(B)].unsqueeze(0), target.unsqueeze(0)).mean()


def many_to_many_loss(logits, targets, lengths=None):
    T, B, _ = logits.shape
    losses = nll(logits, targets)
    if lengths is None:
        return losses.sum() / B
    return losses[torch.arange(T).unsqueeze(1) < lengths].sum() / B


def one_to_many_loss(logits, targets):
    return many_to_many_loss(logits, targets)
