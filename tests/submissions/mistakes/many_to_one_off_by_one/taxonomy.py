"""Mistake: many_to_one_loss picks step lengths[b] (1-based thinking) instead of lengths[b] - 1."""
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


def _ce(row, cls):
    # cross-entropy of one logit row against one class
    return torch.logsumexp(row, dim=0) - row[cls]


def many_to_one_loss(logits, target, lengths=None):
    T, B, _ = logits.shape
    per_seq = []
    for b in range(B):
        L = T if lengths is None else int(lengths[b])
        per_seq.append(_ce(logits[L, b], int(target[b])))  # the step after L steps
    return torch.stack(per_seq).mean()


def many_to_many_loss(logits, targets, lengths=None):
    T, B, _ = logits.shape
    per_seq = []
    for b in range(B):
        L = T if lengths is None else int(lengths[b])
        per_seq.append(sum(_ce(logits[t, b], int(targets[t, b])) for t in range(L)))
    return torch.stack(per_seq).mean()


def one_to_many_loss(logits, targets):
    return many_to_many_loss(logits, targets, None)
