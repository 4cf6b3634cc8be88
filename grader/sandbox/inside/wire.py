"""The only data that crosses between the grader and the worker: length-prefixed frames of plain values.

A frame is 8 bytes of big-endian length and a payload: a magic byte, the format's version, then one value
in a small binary codec of our own. A value is a one-byte tag and its body, little-endian: None, bool,
int (8 bytes, or any size as length and two's complement bytes), float (the 8 IEEE bytes), str (UTF-8 with
lone surrogates kept), bytes, list, tuple, dict (str keys, order kept) and contiguous CPU tensors of the
dtypes in :data:`DTYPES` (dtype, shape, byte count, raw bytes). Decoding builds only these types and
never runs code; any malformed payload raises :class:`WireError`, with every length and count checked
against the bytes left before anything is allocated. :func:`export` turns a student's value into that
plain form first, replacing anything else by an :class:`Unsupported` marker so the grader can say what
it got.
"""

from __future__ import annotations

import ctypes
import math
import os
import select
import struct
import sys
import time
from typing import Any

import torch

MAX_FRAME = 256 * 1024 * 1024
MAX_DEPTH = 20
UNSUPPORTED = "__grader_unsupported__"
MAX_NESTING = MAX_DEPTH + 4
"""Containers a message may nest: :func:`export`'s depth, its marker, and the reply around them."""
MAX_DIMS = 64
MAX_VALUES = 1 << 20
"""Values (numbers, strings, containers, tensors) one message may hold: what bounds decoding a hostile reply."""
HEADER = b"\xc7\x01"
"""The magic byte and the format's version, first in every payload."""
DTYPES = (
    torch.float32,
    torch.float64,
    torch.float16,
    torch.bfloat16,
    torch.complex64,
    torch.complex128,
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.uint16,
    torch.uint32,
    torch.uint64,
    torch.float8_e4m3fn,
    torch.float8_e5m2,
    torch.float8_e4m3fnuz,
    torch.float8_e5m2fnuz,
    torch.float8_e8m0fnu,
)
"""The tensor dtypes that cross, by their code on the wire (append only: a change is a new version)."""
DTYPE_CODES = {dtype: code for code, dtype in enumerate(DTYPES)}

NONE, TRUE, FALSE, INT, BIG_INT, FLOAT, STR, BYTES, LIST, TUPLE, DICT, TENSOR = b"NTFiIfsbltdx"
TAG_ONLY = {None: bytes((NONE,)), True: bytes((TRUE,)), False: bytes((FALSE,))}
TAGGED_INT = struct.Struct("<Bq")
TAGGED_FLOAT = struct.Struct("<Bd")
TAGGED_SIZE = struct.Struct("<BI")
I64 = struct.Struct("<q")
F64 = struct.Struct("<d")
U32 = struct.Struct("<I")
TENSOR_HEAD = struct.Struct("<BB")
U64 = struct.Struct("<Q")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
TENSOR_HEADS = [struct.Struct(f"<BBB{ndim}qQ") for ndim in range(MAX_DIMS + 1)]
"""A tensor's tag, dtype code, number of dimensions, shape and byte count, by its number of dimensions."""
SHAPES = [struct.Struct(f"<{ndim}qQ") for ndim in range(MAX_DIMS + 1)]
"""A tensor's shape and byte count, by its number of dimensions."""


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


def tensor_problem(tensor: torch.Tensor) -> str | None:
    """Why a plain ``torch.Tensor`` cannot cross (sparse, quantized, nested, not on the CPU ...), or None."""
    if tensor.is_nested:
        return "a nested tensor"
    if tensor.layout is not torch.strided:
        return f"a {tensor.layout} tensor"
    if not tensor.is_cpu:
        return f"a tensor on {tensor.device}"
    if tensor.dtype not in DTYPE_CODES:
        return f"a {tensor.dtype} tensor"
    if tensor.dim() > MAX_DIMS:
        return f"a tensor of {tensor.dim()} dimensions"
    return None


def export(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data: exact tensors (detached), Python scalars, strings, lists, tuples, str-keyed dicts."""
    if depth > MAX_DEPTH:
        return {UNSUPPORTED: "a structure nested too deeply"}
    if type(value) is torch.Tensor:
        problem = tensor_problem(value)
        return {UNSUPPORTED: f"torch.Tensor ({problem})"} if problem else value.detach().clone()
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


def _write(value: Any, out: list[bytes], depth: int) -> None:
    """Append ``value``'s encoding to ``out``: exact built-in types and plain tensors only."""
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")
        out += (TAGGED_SIZE.pack(STR, len(data)), data)
    elif kind is float:
        out.append(TAGGED_FLOAT.pack(FLOAT, value))
    elif kind is torch.Tensor:
        _write_tensor(value, out)
    elif kind is int:
        if INT64_MIN <= value <= INT64_MAX:
            out.append(TAGGED_INT.pack(INT, value))
        else:
            data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            out += (TAGGED_SIZE.pack(BIG_INT, len(data)), data)
    elif value is None or kind is bool:
        out.append(TAG_ONLY[value])
    elif kind is list or kind is tuple or kind is dict:
        if depth >= MAX_NESTING:
            raise WireError(f"a message nested deeper than {MAX_NESTING} containers")
        out.append(TAGGED_SIZE.pack(LIST if kind is list else TUPLE if kind is tuple else DICT, len(value)))
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    raise WireError(f"a dict key of type {type_name(key)}: keys must be str")
                data = key.encode("utf-8", "surrogatepass")
                out += (U32.pack(len(data)), data)
                _write(item, out, depth + 1)
        else:
            for item in value:
                _write(item, out, depth + 1)
    elif kind is bytes:
        out += (TAGGED_SIZE.pack(BYTES, len(value)), value)
    else:
        raise WireError(f"a {type_name(value)} cannot cross (export it first)")


def _write_tensor(tensor: torch.Tensor, out: list[bytes]) -> None:
    problem = tensor_problem(tensor)
    if problem:
        raise WireError(f"{problem} cannot cross")
    tensor = tensor.resolve_conj().resolve_neg().contiguous()
    shape = tensor.shape
    size = tensor.nbytes
    out.append(TENSOR_HEADS[len(shape)].pack(TENSOR, DTYPE_CODES[tensor.dtype], len(shape), *shape, size))
    if size:
        out.append(ctypes.string_at(tensor.data_ptr(), size))


def encode(message: dict[str, Any]) -> bytes:
    """The frame of ``message``: its length, then its payload; :class:`WireError` if it is not plain data."""
    if type(message) is not dict:
        raise WireError(f"a message must be a dict, got {type_name(message)}")
    out = [b"", HEADER]
    _write(message, out, 0)
    out[0] = sum(map(len, out)).to_bytes(8, "big")
    return b"".join(out)


class _Reader:
    """Reads one value from an untrusted payload, checking every length against the bytes left."""

    def __init__(self, data: bytes, deadline: float | None = None) -> None:
        self.data = data
        self.size = len(data)
        self.address = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
        self.deadline = deadline
        self.values = 0

    def counted(self) -> None:
        """One more value: at most :data:`MAX_VALUES`, and the deadline checked every few thousand."""
        self.values += 1
        if self.values > MAX_VALUES:
            raise WireError(f"a message of more than {MAX_VALUES} values")
        if not self.values % 4096:
            remaining(self.deadline)

    def span(self, pos: int, size: int) -> int:
        """The end of ``size`` bytes from ``pos``, checked to be inside the payload."""
        end = pos + size
        if end > self.size:
            raise WireError(f"a length of {size} bytes at offset {pos} runs past the end")
        return end

    def text(self, pos: int, size: int) -> tuple[str, int]:
        end = self.span(pos, size)
        try:
            return self.data[pos:end].decode("utf-8", "surrogatepass"), end
        except UnicodeDecodeError:
            raise WireError(f"a string at offset {pos} is not UTF-8") from None

    def count(self, pos: int, each: int) -> tuple[int, int]:
        """A container's element count, which must fit the bytes left at ``each`` bytes per element at least."""
        (count,) = U32.unpack_from(self.data, pos)
        pos += 4
        if count * each > self.size - pos:
            raise WireError(f"{count} elements at offset {pos} cannot fit in the {self.size - pos} bytes left")
        return count, pos

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        self.counted()
        data = self.data
        tag = data[pos]
        pos += 1
        if tag == STR:
            (size,) = U32.unpack_from(data, pos)
            return self.text(pos + 4, size)
        if tag == FLOAT:
            return F64.unpack_from(data, pos)[0], pos + 8
        if tag == TENSOR:
            return self.tensor(pos)
        if tag == INT:
            return I64.unpack_from(data, pos)[0], pos + 8
        if tag == NONE:
            return None, pos
        if tag == TRUE:
            return True, pos
        if tag == FALSE:
            return False, pos
        if tag in (LIST, TUPLE, DICT):
            if depth >= MAX_NESTING:
                raise WireError(f"a message nested deeper than {MAX_NESTING} containers")
            if tag == DICT:
                return self.dict(pos, depth + 1)
            count, pos = self.count(pos, 1)
            items = []
            for _ in range(count):
                item, pos = self.value(pos, depth + 1)
                items.append(item)
            return (items if tag == LIST else tuple(items)), pos
        if tag in (BIG_INT, BYTES):
            (size,) = U32.unpack_from(data, pos)
            end = self.span(pos + 4, size)
            if tag == BYTES:
                return data[pos + 4 : end], end
            return int.from_bytes(data[pos + 4 : end], "little", signed=True), end
        raise WireError(f"unknown tag {tag} at offset {pos - 1}")

    def dict(self, pos: int, depth: int) -> tuple[dict[str, Any] | Unsupported, int]:
        """A dict, or the :class:`Unsupported` that :func:`export`'s marker stands for."""
        count, pos = self.count(pos, 5)
        items = {}
        for _ in range(count):
            (size,) = U32.unpack_from(self.data, pos)
            key, pos = self.text(pos + 4, size)
            items[key], pos = self.value(pos, depth)
        if len(items) != count:
            raise WireError("a dict with a repeated key")
        if count == 1 and UNSUPPORTED in items:
            return Unsupported(str(items[UNSUPPORTED])[:200]), pos
        return items, pos

    def tensor(self, pos: int) -> tuple[torch.Tensor, int]:
        code, ndim = TENSOR_HEAD.unpack_from(self.data, pos)
        if code >= len(DTYPES):
            raise WireError(f"unknown dtype code {code}")
        if ndim > MAX_DIMS:
            raise WireError(f"a tensor of {ndim} dimensions")
        *shape, size = SHAPES[ndim].unpack_from(self.data, pos + 2)
        pos += 2 + 8 * ndim + 8
        dtype = DTYPES[code]
        numel = 1
        for dim in shape:
            if dim < 0:
                raise WireError(f"a tensor of shape {tuple(shape)}")
            numel *= dim
        if not numel and math.prod(max(dim, 1) for dim in shape) > sys.maxsize:
            raise WireError(f"a tensor of shape {tuple(shape)} has too many elements")
        if size != numel * dtype.itemsize:
            raise WireError(f"a {dtype} tensor of shape {tuple(shape)} declares {size} bytes")
        end = self.span(pos, size)
        tensor = torch.empty(shape, dtype=dtype)
        if size:
            ctypes.memmove(tensor.data_ptr(), self.address + pos, size)
            if dtype is torch.bool and tensor.view(torch.uint8).max() > 1:
                raise WireError("a bool tensor holds values other than 0 and 1")
        return tensor, end


def decode(payload: bytes, deadline: float | None = None) -> dict[str, Any]:
    """The message in a frame's payload (without its length), :func:`export`'s markers as :class:`Unsupported`;
    :class:`WireError` if it is malformed or holds more than :data:`MAX_VALUES` values, TimeoutError when decoding
    runs past ``deadline``."""
    data = payload if type(payload) is bytes else bytes(payload)
    if data[:2] != HEADER:
        if data[:1] == HEADER[:1]:
            raise WireError(f"wire format version {data[1:2].hex()}, this side speaks {HEADER[1]:02x}")
        raise WireError(f"not a frame of this grader's wire format (it begins {data[:4]!r})")
    try:
        message, end = _Reader(data, deadline).value(2, 0)
    except (IndexError, struct.error):
        raise WireError("truncated: a value runs past the end of the frame") from None
    if end != len(data):
        raise WireError(f"{len(data) - end} bytes after the message")
    if type(message) is not dict:
        raise WireError(f"a message must be a dict, got {type_name(message)}")
    return message


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (``time.monotonic``), None for none; TimeoutError once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


def read_exact(fd: int, size: int, deadline: float | None = None) -> bytes:
    """``size`` bytes of ``fd``; EOFError when the other side closes it first, TimeoutError past ``deadline``."""
    chunks, left = [], size
    while left:
        wait = remaining(deadline)
        if wait is not None and not select.select([fd], [], [], wait)[0]:
            raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write all of ``data`` to ``fd``; with a ``deadline``, ``fd`` must be non-blocking, and a reader that stops
    reading makes it a TimeoutError instead of a write that never returns."""
    view = memoryview(data)
    while view:
        wait = remaining(deadline)
        if wait is not None and not select.select([], [fd], [], wait)[1]:
            raise TimeoutError("the other side stopped reading")
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue


def receive(fd: int, deadline: float | None = None) -> dict[str, Any]:
    """The next message on ``fd``, read and decoded by ``deadline`` (TimeoutError); EOFError when ``fd`` closes;
    :class:`WireError` for a frame over :data:`MAX_FRAME` or a malformed one."""
    size = int.from_bytes(read_exact(fd, 8, deadline), "big")
    if size > MAX_FRAME:
        raise WireError(f"a frame of {size} bytes is larger than the {MAX_FRAME} allowed")
    return decode(read_exact(fd, size, deadline), deadline)


def unframe(packet: bytes, deadline: float | None = None) -> dict[str, Any]:
    """The message of a frame received whole, as one packet (the zygote's control socket)."""
    if len(packet) < 8 or int.from_bytes(packet[:8], "big") != len(packet) - 8:
        raise WireError(f"a packet of {len(packet)} bytes that is not one whole frame")
    return decode(packet[8:], deadline)
