"""The reference's results kept per process: computed once for equal arguments, handed out as copies."""

from __future__ import annotations

import types
from typing import Any

import pytest
import torch

from grader.reference_results import ReferenceResults, clone, digest


def counting_module(function: Any) -> tuple[types.ModuleType, list[tuple[Any, ...]]]:
    """A module whose ``f`` is ``function``, recording every call it gets."""
    calls: list[tuple[Any, ...]] = []
    module = types.ModuleType("counting")

    def f(*args: Any) -> Any:
        calls.append(args)
        return function(*args)

    module.f = f  # type: ignore[attr-defined]
    return module, calls


def test_equal_arguments_have_equal_digests_and_anything_else_differs():
    x = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    assert digest((x, [1, 2.0], {"a": None})) == digest((x.clone(), [1, 2.0], {"a": None}))
    assert digest((x.t().contiguous().t(),)) == digest((x,))  # the values count, not the memory layout
    assert digest((x[1:],)) == digest((x[1:].clone(),))  # a view's own elements, wherever its storage starts
    assert digest((x.t(),)) == digest((x.t().contiguous(),)) != digest((x.reshape(3, 2),))
    assert digest((torch.zeros(0, 3),)) != digest((torch.zeros(3, 0),))
    others = [
        (x.float(),),
        (x.reshape(3, 2),),
        (x + 1,),
        (x.clone().requires_grad_(),),
        (torch.nn.Parameter(x.clone()),),
        ([x],),
        ({"x": x},),
        (x, None),
    ]
    digests = {digest((x,))} | {digest(o) for o in others}
    assert len(digests) == len(others) + 1
    assert len({digest(v) for v in [(1,), (1.0,), (True,), ("1",), (0.0,), (-0.0,), (torch.float32,)]}) == 7


def test_arguments_of_other_kinds_are_not_fingerprinted():
    assert digest((torch.ones(2), object())) is None
    assert digest((torch.ones(2).to_sparse(),)) is None


def test_a_result_is_computed_once_per_module_function_and_arguments():
    module, calls = counting_module(lambda x, n: x * n)
    other, other_calls = counting_module(lambda x, n: x * n + 1)  # a mutant given as the reference
    results = ReferenceResults()
    x = torch.randn(4, dtype=torch.float64)
    first = results.call(module, "f", (x, 2))
    assert torch.equal(results.call(module, "f", (x.clone(), 2)), first)
    assert len(calls) == 1
    assert torch.equal(results.call(other, "f", (x, 2)), first + 1)
    results.call(module, "f", (x, 3))
    assert len(calls) == 2 and len(other_calls) == 1


def test_nobody_can_change_what_the_next_test_gets():
    module, calls = counting_module(lambda x: (x * 2, {"y": [x + 1]}))
    results = ReferenceResults()
    x = torch.zeros(3)
    got = results.call(module, "f", (x,))
    got[0].add_(100)
    got[1]["y"][0].add_(100)
    again = results.call(module, "f", (x,))
    assert torch.equal(again[0], torch.zeros(3)) and torch.equal(again[1]["y"][0], torch.ones(3))
    assert len(calls) == 1


def test_the_reference_works_on_copies():
    module, _ = counting_module(lambda x: x.add_(1))
    x = torch.zeros(2)
    ReferenceResults().call(module, "f", (x,))
    assert torch.equal(x, torch.zeros(2))


def test_a_reference_that_raises_is_asked_again():
    def broken(x: torch.Tensor) -> torch.Tensor:
        raise ValueError("no")

    module, calls = counting_module(broken)
    results = ReferenceResults()
    for _ in range(2):
        with pytest.raises(ValueError):
            results.call(module, "f", (torch.ones(1),))
    assert len(calls) == 2 and not results.entries


def test_the_least_recently_used_results_go_once_over_the_bound():
    module, calls = counting_module(lambda n, size=100: torch.full((size,), float(n), dtype=torch.float64))
    results = ReferenceResults(max_bytes=3 * (800 + 512))  # three results of 100 float64
    for n in (0, 1, 2, 0, 3):  # 0 was used again, so 3 replaces 1
        results.call(module, "f", (n,))
    assert len(calls) == 4 and len(results.entries) == 3 and results.bytes <= results.max_bytes
    results.call(module, "f", (0,))
    results.call(module, "f", (2,))
    assert len(calls) == 4
    results.call(module, "f", (1,))
    assert len(calls) == 5
    results.call(module, "f", (4, 10**6))  # larger than the bound: returned, never kept
    assert len(results.entries) == 3 and results.bytes <= results.max_bytes


def test_uncacheable_arguments_are_computed_every_time():
    module, calls = counting_module(lambda x, o: x)
    results = ReferenceResults()
    for _ in range(2):
        results.call(module, "f", (torch.ones(1), object()))
    assert len(calls) == 2 and not results.entries


def test_a_copy_is_what_deepcopy_makes_of_tensors_and_their_containers():
    leaf = torch.ones(2, 3, requires_grad=True)
    plain = torch.arange(4)
    shared = torch.zeros(2)
    args = (leaf, [plain, {"a": shared, "b": shared}], 3, "x", None)
    copied = clone(args)
    assert type(copied) is tuple and type(copied[1]) is list and type(copied[1][1]) is dict
    assert copied[0].is_leaf and copied[0].requires_grad and copied[0].grad_fn is None
    assert not copied[1][0].requires_grad and torch.equal(copied[1][0], plain)
    assert copied[1][1]["a"] is copied[1][1]["b"]  # one tensor met twice is one copy, as with deepcopy
    for original, copy in ((leaf, copied[0]), (plain, copied[1][0]), (shared, copied[1][1]["a"])):
        assert copy.data_ptr() != original.data_ptr()
    copied[1][0].add_(1)
    assert torch.equal(plain, torch.arange(4))


def test_anything_else_in_a_copy_is_deep_copied():
    class Box:
        def __init__(self) -> None:
            self.tensor = torch.ones(1)

    box = Box()
    copied = clone([box, torch.nn.Parameter(torch.ones(2))])
    assert copied[0] is not box and copied[0].tensor.data_ptr() != box.tensor.data_ptr()
    assert type(copied[1]) is torch.nn.Parameter
