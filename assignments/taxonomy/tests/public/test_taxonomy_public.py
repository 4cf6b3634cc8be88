"""Tests you can run yourself: the losses against torch.nn.functional.cross_entropy, and the form of PROBLEM_KINDS.

The graded (hidden) tests check more: other shapes, float32, large logits, and the kind of every problem.
"""

import pytest
import torch
import torch.nn.functional as F

from grader.checks import fail

PROBLEMS = [
    "image_captioning",
    "sentiment_analysis",
    "speech_to_text",
    "machine_translation",
    "named_entity_recognition",
    "video_frame_labeling",
    "time_series_forecast_next_value",
]
KINDS = ["one_to_many", "many_to_one", "many_to_many", "many_to_many_synced"]


@pytest.mark.task("kinds")
def test_problem_kinds_names_every_problem_with_a_known_kind(grade):
    kinds = grade.constant("PROBLEM_KINDS")
    if not isinstance(kinds, dict):
        raise fail("type", "PROBLEM_KINDS", f"PROBLEM_KINDS should be a dict, not a {type(kinds).__qualname__}")
    if sorted(kinds) != sorted(PROBLEMS):
        raise fail("value", "PROBLEM_KINDS", f"PROBLEM_KINDS should have exactly the keys {PROBLEMS}")
    unknown = {p: k for p, k in kinds.items() if k not in KINDS}
    if unknown:
        raise fail("value", "PROBLEM_KINDS", f"PROBLEM_KINDS: {unknown} are not one of {KINDS}")


def example(T=6, B=3, C=4):
    """Logits (T, B, C), per-step targets (T, B) and lengths (B,) = [2, 1, T, T, ...]."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(T, B, C, generator=g, dtype=torch.float64)
    targets = torch.randint(0, C, (T, B), generator=g)
    lengths = torch.tensor([2, 1, *[T] * (B - 2)])
    return logits, targets, lengths


@pytest.mark.task("many_to_one")
def test_many_to_one_without_padding(grade):
    logits, targets, _ = example()
    target = targets[0]
    expected = F.cross_entropy(logits[-1], target)  # the last step, mean over the batch
    grade.expect("many_to_one_loss", logits, target, expected=expected)


@pytest.mark.task("many_to_one")
def test_many_to_one_uses_the_last_valid_step(grade):
    logits, targets, lengths = example()
    target = targets[0]
    last = torch.stack([logits[lengths[b] - 1, b] for b in range(len(lengths))])  # (B, C)
    expected = F.cross_entropy(last, target)
    grade.expect("many_to_one_loss", logits, target, lengths, expected=expected)


@pytest.mark.task("many_to_many")
def test_many_to_many_without_padding(grade):
    logits, targets, _ = example()
    B = logits.shape[1]
    expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum") / B
    grade.expect("many_to_many_loss", logits, targets, expected=expected)


@pytest.mark.task("many_to_many")
def test_many_to_many_skips_padding(grade):
    logits, targets, lengths = example()
    B = logits.shape[1]
    per_sequence = [
        F.cross_entropy(logits[: lengths[b], b], targets[: lengths[b], b], reduction="sum") for b in range(B)
    ]
    expected = torch.stack(per_sequence).mean()
    grade.expect("many_to_many_loss", logits, targets, lengths, expected=expected)


@pytest.mark.task("one_to_many")
def test_one_to_many(grade):
    logits, targets, _ = example(T=5, B=4, C=3)
    per_sequence = [F.cross_entropy(logits[:, b], targets[:, b], reduction="sum") for b in range(logits.shape[1])]
    expected = torch.stack(per_sequence).mean()
    grade.expect("one_to_many_loss", logits, targets, expected=expected)
