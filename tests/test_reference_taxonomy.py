"""The taxonomy reference against the contract's answer key and torch.nn.functional.cross_entropy."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, load_reference

from grader.starter import strip_solutions
from grader.student import import_module_from

ref = load_reference("taxonomy")

ANSWER_KEY = {  # student-api.md, section 5
    "image_captioning": "one_to_many",
    "sentiment_analysis": "many_to_one",
    "speech_to_text": "many_to_many",
    "machine_translation": "many_to_many",
    "named_entity_recognition": "many_to_many_synced",
    "video_frame_labeling": "many_to_many_synced",
    "time_series_forecast_next_value": "many_to_one",
}
KINDS = {"one_to_many", "many_to_one", "many_to_many", "many_to_many_synced"}

# (T, B, C): batch > 1, a single step, batch 1, a long sequence
SHAPES = [(5, 4, 3), (1, 3, 4), (7, 1, 5), (30, 6, 10)]
DTYPES = [torch.float64, torch.float32]


def example(T, B, C, dtype, seed=0, scale=1.0, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    logits = offset + scale * torch.randn(T, B, C, generator=g, dtype=dtype)
    targets = torch.randint(0, C, (T, B), generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = 1
    return logits, targets, lengths


def truth_many_to_one(logits, target, lengths):
    last = torch.stack([logits[lengths[b] - 1, b] for b in range(logits.shape[1])])  # (B, C)
    return F.cross_entropy(last, target)


def truth_many_to_many(logits, targets, lengths):
    per_sequence = [
        F.cross_entropy(logits[: lengths[b], b], targets[: lengths[b], b], reduction="sum")
        for b in range(logits.shape[1])
    ]
    return torch.stack(per_sequence).mean()


def close(got, expected):
    assert got.dim() == 0
    assert got.dtype == expected.dtype
    tol = 1e-12 if got.dtype == torch.float64 else 1e-5
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol)


def test_problem_kinds_is_the_answer_key():
    assert ref.PROBLEM_KINDS == ANSWER_KEY
    assert set(ref.PROBLEMS) == set(ANSWER_KEY)
    assert set(ref.KINDS) == KINDS


def test_starter_imports_with_every_problem_to_fill(tmp_path):
    path = tmp_path / "taxonomy.py"
    path.write_text(strip_solutions((ROOT / "reference" / "taxonomy.py").read_text()))
    starter = import_module_from(path)
    assert starter.PROBLEM_KINDS == dict.fromkeys(ANSWER_KEY)
    assert not any(f'"{problem}": "{kind}"' in path.read_text() for problem, kind in ANSWER_KEY.items())
    with pytest.raises(NotImplementedError):
        starter.many_to_one_loss(torch.zeros(1, 1, 2), torch.zeros(1, dtype=torch.long))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_many_to_one(shape, dtype):
    logits, targets, lengths = example(*shape, dtype)
    target = targets[0]
    T, B = shape[:2]
    close(ref.many_to_one_loss(logits, target), F.cross_entropy(logits[-1], target))
    close(ref.many_to_one_loss(logits, target, None), F.cross_entropy(logits[-1], target))
    close(ref.many_to_one_loss(logits, target, lengths), truth_many_to_one(logits, target, lengths))
    full = torch.full((B,), T, dtype=torch.int64)
    close(ref.many_to_one_loss(logits, target, full), F.cross_entropy(logits[-1], target))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_many_to_many(shape, dtype):
    logits, targets, lengths = example(*shape, dtype)
    T, B = shape[:2]
    full = torch.full((B,), T, dtype=torch.int64)
    close(ref.many_to_many_loss(logits, targets), truth_many_to_many(logits, targets, full))
    close(ref.many_to_many_loss(logits, targets, None), truth_many_to_many(logits, targets, full))
    close(ref.many_to_many_loss(logits, targets, full), truth_many_to_many(logits, targets, full))
    close(ref.many_to_many_loss(logits, targets, lengths), truth_many_to_many(logits, targets, lengths))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_one_to_many(shape, dtype):
    logits, targets, _ = example(*shape, dtype)
    C = shape[2]
    expected = F.cross_entropy(logits.reshape(-1, C), targets.reshape(-1), reduction="sum") / shape[1]
    close(ref.one_to_many_loss(logits, targets), expected)


def test_padding_does_not_count():
    logits, targets, lengths = example(6, 5, 4, torch.float64, seed=1)
    T = logits.shape[0]
    padding = torch.arange(T).unsqueeze(1) >= lengths  # (T, B)
    other_logits = torch.where(padding.unsqueeze(-1), torch.randn_like(logits), logits)
    other_targets = torch.where(padding, (targets + 1) % logits.shape[-1], targets)
    assert padding.any()
    assert ref.many_to_many_loss(other_logits, other_targets, lengths) == ref.many_to_many_loss(
        logits, targets, lengths
    )
    assert ref.many_to_one_loss(other_logits, targets[0], lengths) == ref.many_to_one_loss(logits, targets[0], lengths)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("scale", "offset"), [(1.0, 1e3), (1e3, 0.0), (1.0, -1e3)])
def test_large_logits_are_finite_and_right(scale, offset, dtype):
    logits, targets, lengths = example(5, 4, 6, dtype, seed=2, scale=scale, offset=offset)
    for got, expected in [
        (ref.many_to_one_loss(logits, targets[0], lengths), truth_many_to_one(logits, targets[0], lengths)),
        (ref.many_to_many_loss(logits, targets, lengths), truth_many_to_many(logits, targets, lengths)),
        (ref.one_to_many_loss(logits, targets), truth_many_to_many(logits, targets, torch.full((4,), 5))),
    ]:
        assert torch.isfinite(got)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_arguments_unchanged():
    logits, targets, lengths = example(5, 3, 4, torch.float64)
    copies = logits.clone(), targets.clone(), lengths.clone()
    ref.many_to_one_loss(logits, targets[0], lengths)
    ref.many_to_many_loss(logits, targets, lengths)
    ref.one_to_many_loss(logits, targets)
    for a, b in zip((logits, targets, lengths), copies, strict=True):
        assert torch.equal(a, b)
