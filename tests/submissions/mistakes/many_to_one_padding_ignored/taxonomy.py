"""Mistake: many_to_one_loss scores the final step T-1 of every sequence and never looks at lengths."""
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
    # the network has read the whole sequence after the last step
    final_output = logits[-1]
    return F.cross_entropy(final_output, target)


def many_to_many_loss(logits, targets, lengths=None):
    steps, batch, _ = logits.shape
    total = logits.new_zeros(())
    for b in range(batch):
        n = steps if lengths is None else int(lengths[b])
        total = total + F.cross_entropy(logits[:n, b], targets[:n, b], reduction="sum")
    return total / batch


def one_to_many_loss(logits, targets):
    steps, batch, n_classes = logits.shape
    flat = F.cross_entropy(logits.reshape(steps * batch, n_classes), targets.reshape(steps * batch), reduction="sum")
    return flat / batch
