"""The only data that crosses between the grader and the worker: length-prefixed frames of plain values.

A frame is 8 bytes of big-endian length and a ``torch.save`` payload read back with
``torch.load(weights_only=True)``, which builds tensors, numbers, strings, lists, tuples and dicts and
refuses any other class (no code runs on load). :func:`export` turns a student's value into that plain
form first, replacing anything else by an :class:`Unsupported` marker so the grader can say what it got.
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Any

import torch

MAX_FRAME = 256 * 1024 * 1024
MAX_DEPTH = 20
UNSUPPORTED = "__grader_unsupported__"


class WireError(Exception):
    """A frame that is truncated, too large, or not plain data."""


class Unsupported:
    """A value of a type that does not cross the boundary, known by its type's name."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def export(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data: exact tensors (detached), Python scalars, strings, lists, tuples, str-keyed dicts."""
    if depth > MAX_DEPTH:
        return {UNSUPPORTED: "a structure nested too deeply"}
    if type(value) is torch.Tensor:
        return value.detach().clone()
    if isinstance(value, torch.Tensor):
        return {UNSUPPORTED: f"{type_name(value)} (a tensor subclass)"}
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, float):  # numpy.float64 is a float
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, tuple):
        return tuple(export(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [export(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {k: export(v, depth + 1) for k, v in value.items()}
        return {UNSUPPORTED: "dict with non-string keys"}
    return {UNSUPPORTED: type_name(value)}


def restore(value: Any, depth: int = 0) -> Any:
    """Turn :func:`export`'s markers back into :class:`Unsupported` objects."""
    if depth > MAX_DEPTH + 1:
        raise WireError("nested too deeply")
    if isinstance(value, dict):
        if set(value) == {UNSUPPORTED}:
            return Unsupported(str(value[UNSUPPORTED]))
        return {k: restore(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(restore(v, depth + 1) for v in value)
    return value


def encode(message: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(message, buffer)
    payload = buffer.getvalue()
    return len(payload).to_bytes(8, "big") + payload


def decode(payload: bytes) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            message = torch.load(io.BytesIO(payload), weights_only=True)
    except Exception as error:
        raise WireError(f"not plain data: {type(error).__name__}: {str(error)[:200]}") from None
    if not isinstance(message, dict):
        raise WireError(f"a message must be a dict, got {type_name(message)}")
    return message


def read_exact(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def send(fd: int, message: dict[str, Any]) -> None:
    data = encode(message)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def receive(fd: int) -> dict[str, Any]:
    size = int.from_bytes(read_exact(fd, 8), "big")
    if size > MAX_FRAME:
        raise WireError(f"a frame of {size} bytes is larger than the {MAX_FRAME} allowed")
    return decode(read_exact(fd, size))
