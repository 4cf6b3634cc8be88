"""The reference's results, kept per process: a test gives the reference the same inputs for every submission of an
attempt (they derive from the attempt's seed and the test's id; a batch is one attempt for the whole class), so each
result is computed once and handed out as a copy."""

from __future__ import annotations

import copy
import ctypes
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch

IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, torch.dtype)
ENTRY_BYTES = 512
"""What an entry costs besides its tensors' bytes (its key and containers): bounds the number of entries too."""


def _feed(hasher: Any, value: Any) -> bool:
    """Add ``value`` to ``hasher`` unambiguously; False when it is of a kind not fingerprinted."""
    kind = type(value)
    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided or value.device.type != "cpu" or value.is_conj() or value.is_neg():
            return False
        hasher.update(f"{kind.__qualname__} {value.dtype} {tuple(value.shape)} {value.requires_grad};".encode())
        data = value if value.is_contiguous() else value.contiguous()
        if data.nbytes:  # its bytes, read straight from its memory (``data`` keeps it alive)
            hasher.update(ctypes.string_at(data.data_ptr(), data.nbytes))
        return True
    if kind in (list, tuple):
        hasher.update(f"{kind.__qualname__} {len(value)};".encode())
        return all(_feed(hasher, item) for item in value)
    if kind is dict:
        hasher.update(f"dict {len(value)};".encode())
        return all(_feed(hasher, key) and _feed(hasher, item) for key, item in value.items())
    if kind in IMMUTABLE:
        hasher.update(f"{kind.__qualname__} {value!r};".encode())
        return True
    return False


def digest(value: Any) -> bytes | None:
    """A fingerprint of ``value``: tensors by type, dtype, shape, ``requires_grad`` and raw bytes; lists, tuples and
    dicts item by item; scalars, strings and dtypes by type and repr. None when it holds anything else."""
    hasher = hashlib.blake2b(digest_size=24)
    return hasher.digest() if _feed(hasher, value) else None


def clone(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A copy of ``value`` that shares no tensor with it, as :func:`copy.deepcopy` makes one (a leaf tensor stays a
    leaf, with its ``requires_grad``; a tensor met twice is copied once), at a fraction of its cost on plain
    tensors and their lists, tuples and dicts; anything else goes to ``deepcopy``."""
    memo = {} if memo is None else memo
    kind = type(value)
    if kind in IMMUTABLE:
        return value
    if id(value) in memo:
        return memo[id(value)]
    if kind is torch.Tensor:
        if value.grad_fn is None:
            copied = value.detach().clone()
            copied.requires_grad_(value.requires_grad)
        else:
            copied = value.clone()
    elif kind in (list, tuple):
        copied = kind(clone(item, memo) for item in value)
    elif kind is dict:
        copied = {key: clone(item, memo) for key, item in value.items()}
    else:
        copied = copy.deepcopy(value, memo)
    memo[id(value)] = copied
    return copied


def size(value: Any) -> int:
    """The bytes of the tensors in a result."""
    if isinstance(value, torch.Tensor):
        return value.nbytes
    if isinstance(value, list | tuple):
        return sum(size(item) for item in value)
    if isinstance(value, dict):
        return sum(size(item) for item in value.values())
    return 0


class ReferenceResults:
    """Results by (module, function, fingerprint of the arguments), least recently used dropped first once they hold
    more than ``max_bytes``. A call that raises is not kept: it raises again next time."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()

    def call(self, module: ModuleType, function: str, args: tuple[Any, ...]) -> Any:
        """``module.function(*args)`` on copies of ``args``, computed once for equal arguments; the caller gets its
        own copy of the result."""
        return self.call_with(module, function, args, digest(args))

    def call_with(self, module: ModuleType, function: str, args: tuple[Any, ...], fingerprint: bytes | None) -> Any:
        """:meth:`call` with the arguments' :func:`digest` already worked out (it serves several modules)."""
        if fingerprint is None:
            return getattr(module, function)(*clone(args))
        return self.remember((module, function, fingerprint), lambda: getattr(module, function)(*clone(args)))

    def remember(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, worked out once per ``key`` (its first item a module: the entry lives as long as it); the
        caller gets its own copy."""
        if key in self.entries:
            self.entries.move_to_end(key)
            return clone(self.entries[key][0])
        result = compute()
        cost = size(result) + ENTRY_BYTES
        if cost <= self.max_bytes:
            self.entries[key] = (clone(result), cost)
            self.bytes += cost
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.bytes -= dropped
        return result


RESULTS = ReferenceResults()
"""This process's results, shared by every test."""
