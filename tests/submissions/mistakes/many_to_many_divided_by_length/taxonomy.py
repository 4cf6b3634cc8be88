"""A student's taxonomy that divides each sequence's summed loss by T, the padded length."""
import numpy as np
import torch

PROBLEM_KINDS = {}
for problem in ("sentiment_analysis", "time_series_forecast_next_value"):
    PROBLEM_KINDS[problem] = "many_to_one"
for problem in ("speech_to_text", "machine_translation"):
    PROBLEM_KINDS[problem] = "many_to_many"
for problem in ("named_entity_recognition", "video_frame_labeling"):
    PROBLEM_KINDS[problem] = "many_to_many_synced"
PROBLEM_KINDS["image_captioning"] = "one_to_many"


def _neg_log_prob(row, label):
    """-log softmax(row)[label] for a numpy vector, shifting by the maximum first."""
    top = row.max()
    return top + np.log(np.exp(row - top).sum()) - row[label]


def _as_loss(value, like):
    return torch.tensor(float(value), dtype=like.dtype)


def _valid_steps(T, B, lengths):
    return [T] * B if lengths is None else [int(n) for n in lengths.tolist()]


def many_to_one_loss(logits, target, lengths=None):
    z = logits.detach().numpy().astype(np.float64)
    labels = target.tolist()
    T, B, _ = z.shape
    steps = _valid_steps(T, B, lengths)
    total = sum(_neg_log_prob(z[steps[b] - 1, b], labels[b]) for b in range(B))
    return _as_loss(total / B, logits)


def many_to_many_loss(logits, targets, lengths=None):
    z = logits.detach().numpy().astype(np.float64)
    labels = targets.numpy()
    T, B, _ = z.shape
    steps = _valid_steps(T, B, lengths)
    total = 0.0
    for b in range(B):
        for t in range(steps[b]):
            total += _neg_log_prob(z[t, b], labels[t, b]) / T
    return _as_loss(total / B, logits)


def one_to_many_loss(logits, targets):
    return many_to_many_loss(logits, targets, torch.full((logits.shape[1],), logits.shape[0]))
