"""The wire format between the grader and the worker: exact round trips, and malformed frames refused."""

from __future__ import annotations

import io
import math
import os
import random
import struct
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch

from grader.sandbox.inside import wire

SHAPES = [(), (0,), (3,), (2, 0, 3), (2, 3, 4)]


def raw(tensor: torch.Tensor) -> bytes:
    return bytes(tensor.contiguous().reshape(-1).view(torch.uint8).tolist())


def identical(a: Any, b: Any) -> bool:
    """Same types all the way down, floats and tensors bit for bit, dicts in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and raw(a) == raw(b)
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def round_trip(message: dict[str, Any]) -> dict[str, Any]:
    frame = wire.encode(message)
    assert int.from_bytes(frame[:8], "big") == len(frame) - 8
    return wire.decode(frame[8:])


def random_tensor(dtype: torch.dtype, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Random bytes as ``dtype`` (NaN payloads, -0.0 and infinities included); bools are 0 or 1."""
    generator = torch.Generator().manual_seed(seed)
    count = math.prod(shape) * dtype.itemsize
    data = torch.randint(0, 2 if dtype == torch.bool else 256, (count,), dtype=torch.uint8, generator=generator)
    return data.view(dtype).reshape(shape)


def float_of(hex_bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


FLOATS = [
    0.0,
    -0.0,
    1.5,
    -1e-300,
    5e-324,
    1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
    float_of("7ff0000000000001"),  # a signalling NaN
    float_of("fff8000000000abc"),  # a negative NaN with a payload
]
INTS = [0, 1, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 10**400, -(10**400), 2**1_000_000 - 7]
STRINGS = ["", "plain", "héllo wörld", "😀 and 中文", "\x00\n\t", "\ud800", "a\udfffb", "\udbff\udc00"]


def typical_request() -> dict[str, Any]:
    generator = torch.Generator().manual_seed(1)
    args = [torch.randn(5, 3, 4, dtype=torch.float64, generator=generator), torch.randn(3, 6), 0.5, None, "dot"]
    return {"op": "call", "module": "attention", "function": "attend", "args": args, "cpu_seconds": 2.5}


def typical_reply() -> dict[str, Any]:
    request = typical_request()
    value = (torch.rand(3, 4, dtype=torch.float64), [torch.tensor(2.0)], {"loss": 0.25, "steps": 3})
    return {
        "ok": True,
        "value": wire.export(value),
        "args": [wire.export(a) for a in request["args"]],
        "stdout": "printed\n",
        "violations": [],
    }


def every_type() -> dict[str, Any]:
    return {
        "none": None,
        "bools": [True, False],
        "ints": INTS,
        "floats": FLOATS,
        "strings": STRINGS,
        "bytes": [b"", bytes(range(256))],
        "containers": ([], (), {}, [()], ((1,), [2]), {"z": 1, "a": 2, "m": {"": None}}),
        "tensors": [random_tensor(dtype, (2, 3), seed=i) for i, dtype in enumerate(wire.DTYPES)],
    }


@pytest.mark.parametrize(
    "value", [None, True, False, *INTS, *FLOATS, *STRINGS, b"", b"\x00\xff" * 9], ids=lambda v: type(v).__name__
)
def test_scalars_round_trip_with_their_exact_type_and_bits(value: Any) -> None:
    got = round_trip({"v": value})["v"]
    assert identical(got, value)


def test_containers_keep_their_types_and_order() -> None:
    message = every_type()
    got = round_trip(message)
    assert identical(got, message)
    assert list(got["containers"][5]) == ["z", "a", "m"]
    assert type(got["containers"][4][0]) is tuple and type(got["containers"][4][1]) is list


@pytest.mark.parametrize("message", [typical_request(), typical_reply()], ids=["request", "reply"])
def test_the_grader_and_worker_messages_round_trip(message: dict[str, Any]) -> None:
    assert identical(round_trip(message), message)


@pytest.mark.parametrize("dtype", wire.DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_tensors_of_every_dtype_and_shape_round_trip_bit_exact(dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    tensor = random_tensor(dtype, shape)
    frame = wire.encode({"t": tensor})
    got = wire.decode(frame[8:])["t"]
    assert type(got) is torch.Tensor and identical(got, tensor)
    assert got.is_contiguous() and not got.requires_grad
    storage = got.untyped_storage()
    assert storage.nbytes() == got.nbytes and storage.resizable()
    got.reshape(-1).view(torch.uint8).fill_(7)  # writable, and its own memory
    assert identical(wire.decode(frame[8:])["t"], tensor)


def test_non_contiguous_tensors_are_sent_contiguous_and_only_their_own_elements() -> None:
    base = torch.arange(48, dtype=torch.float32).reshape(4, 12)
    views = [base.t(), base[:, ::3], base[1], base[0, 0], torch.tensor([1.0, 2.0]).expand(3, 2)]
    for view in views:
        frame = wire.encode({"t": view})
        got = wire.decode(frame[8:])["t"]
        assert got.is_contiguous() and torch.equal(got, view)
        assert len(frame) < 100 + view.numel() * 4


def test_conjugate_and_negative_bits_are_resolved() -> None:
    complex_tensor = torch.tensor([1 + 2j, -3 - 4j], dtype=torch.complex128)
    conjugate = complex_tensor.conj()
    negative = conjugate.imag
    assert conjugate.is_conj() and negative.is_neg()
    got = round_trip({"c": conjugate, "n": negative})
    assert not got["c"].is_conj() and torch.equal(got["c"], conjugate.resolve_conj())
    assert not got["n"].is_neg() and torch.equal(got["n"], torch.tensor([-2.0, 4.0], dtype=torch.float64))


def test_a_tensor_that_requires_grad_arrives_as_plain_data() -> None:
    tensor = torch.randn(3, requires_grad=True)
    got = round_trip({"t": tensor * 2})["t"]
    assert not got.requires_grad and torch.equal(got, tensor.detach() * 2)


def quantized() -> torch.Tensor:
    return torch.quantize_per_tensor(torch.randn(3), 0.1, 0, torch.qint8)


UNCROSSABLE: dict[str, Callable[[], torch.Tensor]] = {
    "sparse_coo": lambda: torch.eye(3).to_sparse(),
    "sparse_csr": lambda: torch.eye(3).to_sparse_csr(),
    "quantized": quantized,
    "meta": lambda: torch.empty(3, device="meta"),
    "nested": lambda: torch.nested.nested_tensor([torch.randn(2), torch.randn(3)]),
    "complex32": lambda: torch.zeros(2, dtype=torch.complex32),
    "65 dimensions": lambda: torch.zeros((1,) * 65),
    "Parameter": lambda: torch.nn.Parameter(torch.randn(2)),
}


@pytest.mark.parametrize("make", UNCROSSABLE.values(), ids=UNCROSSABLE.keys())
def test_tensors_that_cannot_cross_are_exported_as_markers(make: Callable[[], torch.Tensor]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tensor = make()
    value = round_trip({"value": wire.export([tensor])})["value"]
    assert isinstance(value[0], wire.Unsupported)
    assert "Tensor" in value[0].type_name or "Parameter" in value[0].type_name
    with pytest.raises(wire.WireError):
        wire.encode({"v": tensor})


def test_an_export_nested_too_deeply_crosses_as_a_marker() -> None:
    deep: list[Any] = []
    for _ in range(100):
        deep = [deep]
    reply = {"ok": True, "value": wire.export(deep), "args": [wire.export(deep)]}
    got = round_trip(reply)
    value = got["value"]
    for _ in range(wire.MAX_DEPTH + 1):
        value = value[0]
    assert isinstance(value, wire.Unsupported)


@pytest.mark.parametrize(
    "message",
    [[1], {"v": object()}, {"v": {1, 2}}, {"v": {1: "a"}}, {"v": bytearray(b"x")}, {"v": torch.Size([2])}],
    ids=["not a dict", "object", "set", "int key", "bytearray", "tuple subclass"],
)
def test_encode_refuses_what_is_not_plain_data(message: Any) -> None:
    with pytest.raises(wire.WireError):
        wire.encode(message)


def test_encode_refuses_a_cycle() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(wire.WireError, match="nested deeper"):
        wire.encode({"v": cycle})


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def key(name: str) -> bytes:
    data = name.encode()
    return u32(len(data)) + data


def one(value: bytes) -> bytes:
    """The payload of ``{"v": value}`` with ``value`` already encoded."""
    return wire.HEADER + b"d" + u32(1) + key("v") + value


def tensor_bytes(code: int, shape: tuple[int, ...], size: int, data: bytes = b"") -> bytes:
    return b"x" + struct.pack(f"<BB{len(shape)}qQ", code, len(shape), *shape, size) + data


def nested_lists(depth: int) -> bytes:
    return one((b"l" + u32(1)) * depth + b"N")


def old_torch_save_payload() -> bytes:
    buffer = io.BytesIO()
    torch.save({"ok": True}, buffer)
    return buffer.getvalue()


FLOAT32 = wire.DTYPE_CODES[torch.float32]
MALFORMED = {
    "empty": (b"", "not a frame"),
    "only the header": (wire.HEADER, "truncated"),
    "an old torch.save frame": (old_torch_save_payload(), "not a frame"),
    "unknown tag": (one(b"?"), "unknown tag"),
    "trailing bytes": (one(b"N") + b"\x00", "1 bytes after"),
    "str past the end": (one(b"s" + u32(100) + b"abc"), "past the end"),
    "bytes past the end": (one(b"b" + u32(2**32 - 1)), "past the end"),
    "big int past the end": (one(b"I" + u32(9) + b"\x01"), "past the end"),
    "a list of 4 billion in 20 bytes": (one(b"l" + u32(2**32 - 1)), "cannot fit"),
    "a tuple of 4 billion in 20 bytes": (one(b"t" + u32(2**32 - 1)), "cannot fit"),
    "a dict of 4 billion in 20 bytes": (one(b"d" + u32(2**32 - 1)), "cannot fit"),
    "a dict of 3 in 12 bytes": (one(b"d" + u32(3) + b"\x00" * 12), "cannot fit"),
    "nested 1000 deep": (nested_lists(1000), "nested deeper"),
    "nested one past the limit": (nested_lists(wire.MAX_NESTING), "nested deeper"),
    "invalid UTF-8 str": (one(b"s" + u32(1) + b"\xff"), "not UTF-8"),
    "invalid UTF-8 key": (wire.HEADER + b"d" + u32(1) + u32(2) + b"\xc3(" + b"N", "not UTF-8"),
    "a repeated key": (wire.HEADER + b"d" + u32(2) + key("v") + b"N" + key("v") + b"T", "repeated key"),
    "top level list": (wire.HEADER + b"l" + u32(0), "must be a dict"),
    "top level str": (wire.HEADER + b"s" + u32(0), "must be a dict"),
    "unknown dtype code": (one(tensor_bytes(250, (1,), 4, b"\x00" * 4)), "unknown dtype"),
    "65 dimensions": (one(tensor_bytes(FLOAT32, (1,) * 65, 4, b"\x00" * 4)), "65 dimensions"),
    "negative dimensions": (one(tensor_bytes(FLOAT32, (-2, -3), 24, b"\x00" * 24)), "shape"),
    "byte count not numel * itemsize": (one(tensor_bytes(FLOAT32, (3,), 8, b"\x00" * 8)), "declares 8 bytes"),
    "numel overflow with a zero dimension": (one(tensor_bytes(FLOAT32, (0, 2**62, 4), 0)), "too many elements"),
    "a 4 EiB tensor in 40 bytes": (one(tensor_bytes(FLOAT32, (2**30, 2**30), 2**62)), "past the end"),
    "tensor data past the end": (one(tensor_bytes(FLOAT32, (4,), 16, b"\x00" * 8)), "past the end"),
    "a bool tensor holding 2": (one(tensor_bytes(wire.DTYPE_CODES[torch.bool], (2,), 2, b"\x01\x02")), "0 and 1"),
    "truncated tensor header": (one(b"x" + bytes([FLOAT32, 3]) + b"\x00" * 5), "truncated"),
}


@pytest.mark.parametrize(("payload", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_payloads_raise_wire_error(payload: bytes, reason: str) -> None:
    with pytest.raises(wire.WireError, match=reason):
        wire.decode(payload)


def test_the_deepest_nesting_allowed_decodes() -> None:
    value = wire.decode(nested_lists(wire.MAX_NESTING - 1))["v"]
    for _ in range(wire.MAX_NESTING - 1):
        value = value[0]
    assert value is None


def test_a_peer_of_another_version_fails_clearly() -> None:
    payload = bytes([wire.HEADER[0], wire.HEADER[1] + 1]) + wire.encode({})[10:]
    with pytest.raises(wire.WireError, match="version"):
        wire.decode(payload)
    with pytest.raises(wire.WireError, match="not a frame"):
        wire.decode(old_torch_save_payload())


def test_every_truncation_of_a_frame_raises_wire_error() -> None:
    payload = wire.encode({**every_type(), "ints": INTS[:-1]})[8:]
    for end in range(len(payload)):
        with pytest.raises(wire.WireError):
            wire.decode(payload[:end])


INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1]


def mutate(data: bytearray, rng: random.Random) -> None:
    """One random change: a byte set, a truncation, bytes inserted or deleted, a slice repeated, a length changed."""
    where = rng.randrange(len(data) + 1)
    kind = rng.randrange(6)
    if kind == 0 and where < len(data):
        data[where] = rng.randrange(256)
    elif kind == 1:
        del data[where:]
    elif kind == 2:
        data[where:where] = rng.randbytes(rng.randrange(1, 9))
    elif kind == 3:
        del data[where : where + rng.randrange(1, 9)]
    elif kind == 4:
        data[where:where] = data[rng.randrange(len(data) + 1) :][: rng.randrange(1, 40)]
    else:
        width = rng.choice([1, 4, 8])
        value = rng.choice(INTERESTING) & ((1 << (8 * width)) - 1)
        data[where : where + width] = value.to_bytes(width, "little")


def test_random_mutations_give_a_wire_error_or_a_valid_message() -> None:
    rng = random.Random(20240611)
    small_ints = {"n": [0, -1, 2**70], "t": torch.tensor([True, False]), "e": torch.empty(0, 2)}
    frames = [wire.encode(m)[8:] for m in (typical_request(), typical_reply(), small_ints)]
    decoded = refused = 0
    for _ in range(4000):
        data = bytearray(rng.choice(frames))
        for _ in range(rng.randrange(1, 4)):
            mutate(data, rng)
        try:
            message = wire.decode(bytes(data))
        except wire.WireError:
            refused += 1
            continue
        decoded += 1
        assert type(message) is dict
        assert identical(round_trip(message), message)
    assert decoded > 100 and refused > 1000


def test_send_and_receive_over_a_pipe() -> None:
    read, write = os.pipe()
    try:
        for message in (typical_request(), typical_reply(), {}):
            wire.write_all(write, wire.encode(message))
            assert identical(wire.receive(read), message)
    finally:
        os.close(read)
        os.close(write)


def test_a_frame_larger_than_the_pipe_buffer_crosses() -> None:
    message = {"t": random_tensor(torch.float64, (1 << 20,)), "s": "x" * 300_000}
    read, write = os.pipe()
    sender = threading.Thread(target=wire.write_all, args=(write, wire.encode(message)))
    try:
        sender.start()
        got = wire.receive(read)
        sender.join()
    finally:
        os.close(read)
        os.close(write)
    assert identical(got, message)


def test_receive_refuses_a_frame_larger_than_allowed_and_reports_a_closed_channel() -> None:
    read, write = os.pipe()
    try:
        os.write(write, (wire.MAX_FRAME + 1).to_bytes(8, "big"))
        with pytest.raises(wire.WireError, match="larger"):
            wire.receive(read)
        os.write(write, wire.encode({"v": "abc"})[:-2])
    finally:
        os.close(write)
    try:
        with pytest.raises(EOFError):
            wire.receive(read)
    finally:
        os.close(read)


def test_a_reply_of_too_many_values_is_refused_before_it_is_built() -> None:
    """8M empty dicts in 40 MB took the grader 1.4 GB and 20 s to decode: the count is capped while decoding."""
    frame = wire.encode({"value": [{} for _ in range(wire.MAX_VALUES)]})
    with pytest.raises(wire.WireError, match="more than"):
        wire.decode(frame[8:])
    assert wire.decode(wire.encode({"value": [{} for _ in range(1000)]})[8:])["value"] == [{}] * 1000


def test_decoding_stops_at_the_deadline() -> None:
    frame = wire.encode({"value": [0] * 100_000})
    with pytest.raises(TimeoutError):
        wire.decode(frame[8:], deadline=time.monotonic() - 1)


def test_a_reader_that_stops_reading_makes_a_write_time_out() -> None:
    """A worker that shrinks its request pipe and stops reading once hung the grader in os.write forever."""
    read, write = os.pipe()
    try:
        os.set_blocking(write, False)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            wire.write_all(write, wire.encode({"v": "x" * (1 << 20)}), deadline=time.monotonic() + 0.3)
        assert time.monotonic() - start < 5
    finally:
        os.close(read)
        os.close(write)


def test_a_silent_writer_makes_a_read_time_out() -> None:
    read, write = os.pipe()
    try:
        with pytest.raises(TimeoutError):
            wire.receive(read, deadline=time.monotonic() + 0.2)
    finally:
        os.close(read)
        os.close(write)
