"""The taxonomy of sequence problems, and the cross-entropy loss of each kind.

    l(z, y) = logsumexp_c(z_c) - z_y                                   (1)
    many-to-one:  J = 1/B sum_b l(z_{L_b}, y)                           (2)
    many-to-many: J = 1/B sum_b sum_{t <= L_b} l(z_t, y_t)              (3)
    one-to-many:  J = 1/B sum_b sum_{t <= T} l(z_t, y_t)                (4)

Sequences are time-major: logits is (T, B, C), the scores of C classes at every step. Class ids
are int64. lengths (B,), int64, gives each sequence's number of valid steps L_b (1 <= L_b <= T);
the steps after L_b are padding, and their targets must not count.
"""

import torch
from torch import Tensor

KINDS = ("one_to_many", "many_to_one", "many_to_many", "many_to_many_synced")
"""The kinds of sequence problem, as the lecture names them."""

PROBLEMS = (
    "image_captioning",
    "sentiment_analysis",
    "speech_to_text",
    "machine_translation",
    "named_entity_recognition",
    "video_frame_labeling",
    "time_series_forecast_next_value",
)
"""The problems to classify."""

# Map every problem of PROBLEMS to its kind, one of KINDS (a string).
### BEGIN SOLUTION: PROBLEM_KINDS: dict[str, str | None] = dict.fromkeys(PROBLEMS)
PROBLEM_KINDS: dict[str, str] = {
    "image_captioning": "one_to_many",
    "sentiment_analysis": "many_to_one",
    "speech_to_text": "many_to_many",
    "machine_translation": "many_to_many",
    "named_entity_recognition": "many_to_many_synced",
    "video_frame_labeling": "many_to_many_synced",
    "time_series_forecast_next_value": "many_to_one",
}
### END SOLUTION


def many_to_one_loss(logits: Tensor, target: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Equation (2): the cross-entropy of each sequence's last valid step, averaged over the batch.

    logits (T, B, C), target (B,) class ids, lengths (B,) or None (every sequence has T steps)
    -> loss, a 0-dim tensor of logits' dtype
    """
    ### BEGIN SOLUTION
    T, B = logits.shape[:2]
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    batch = torch.arange(B)
    z = logits[lengths - 1, batch]  # (B, C): step L_b of sequence b
    loss = torch.logsumexp(z, dim=-1) - z[batch, target]  # (B,)
    return loss.mean()
    ### END SOLUTION


def many_to_many_loss(logits: Tensor, targets: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Equation (3): per-step cross-entropy summed over each sequence's valid steps, averaged over the batch.

    logits (T, B, C), targets (T, B) class ids, lengths (B,) or None (every sequence has T steps)
    -> loss, a 0-dim tensor of logits' dtype
    """
    ### BEGIN SOLUTION
    T, B = logits.shape[:2]
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    z_y = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (T, B)
    loss = torch.logsumexp(logits, dim=-1) - z_y  # (T, B)
    valid = torch.arange(T).unsqueeze(1) < lengths  # (T, B): t < L_b
    per_sequence = torch.where(valid, loss, 0.0).sum(dim=0)  # (B,): summed over each sequence's valid steps
    return per_sequence.mean()
    ### END SOLUTION


def one_to_many_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Equation (4): per-step cross-entropy summed over all T steps, averaged over the batch.

    logits (T, B, C), targets (T, B) class ids -> loss, a 0-dim tensor of logits' dtype
    """
    ### BEGIN SOLUTION
    return many_to_many_loss(logits, targets)  # equation (3) with L_b = T for every sequence
    ### END SOLUTION
