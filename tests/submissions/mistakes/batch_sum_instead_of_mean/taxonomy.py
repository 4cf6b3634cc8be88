"""Mistake: every loss adds up the sequences of the batch instead of averaging over them."""
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


def nll(scores, label):
    return -torch.log_softmax(scores, dim=-1)[label]


def many_to_one_loss(logits, target, lengths=None):
    T = logits.shape[0]
    total = 0
    for b in range(logits.shape[1]):
        t_last = (int(lengths[b]) if lengths is not None else T) - 1
        total = total + nll(logits[t_last, b], target[b])
    return total


def many_to_many_loss(logits, targets, lengths=None):
    T = logits.shape[0]
    total = 0
    for b in range(logits.shape[1]):
        for t in range(int(lengths[b]) if lengths is not None else T):
            total = total + nll(logits[t, b], targets[t, b])
    return total


def one_to_many_loss(logits, targets):
    T, B = targets.shape
    total = 0
    for t in range(T):
        for b in range(B):
            total = total + nll(logits[t, b], targets[t, b])
    return total
