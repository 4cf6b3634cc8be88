"""Benchmark of the grader<->worker wire format: microseconds to encode and decode one message.

A typical request (three float64 tensors of shapes (5, 3, 4), (3, 6) and (6, 4), a float and strings)
and a typical reply (the returned tensors, the arguments echoed back, the captured output), each timed
with :mod:`grader.sandbox.inside.wire` and with the format it replaced (``torch.save``, read back with
``torch.load(weights_only=True)``), measured inline here. Figures, not assertions.
Usage: ``.venv/bin/python bench/wire.py [-n 2000]``.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from typing import Any

import torch

from grader.sandbox.inside import wire


def old_encode(message: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(message, buffer)
    payload = buffer.getvalue()
    return len(payload).to_bytes(8, "big") + payload


def old_decode(payload: bytes) -> dict[str, Any]:
    message: dict[str, Any] = torch.load(io.BytesIO(payload), weights_only=True)
    return message


def messages() -> dict[str, dict[str, Any]]:
    generator = torch.Generator().manual_seed(0)
    args = [
        torch.randn(5, 3, 4, dtype=torch.float64, generator=generator),
        torch.randn(3, 6, dtype=torch.float64, generator=generator),
        torch.randn(6, 4, dtype=torch.float64, generator=generator),
        0.5,
        "scaled_dot",
    ]
    request = {"op": "call", "module": "attention", "function": "attend", "args": args, "cpu_seconds": 10.0}
    returned = (torch.randn(3, 4, dtype=torch.float64, generator=generator), torch.rand(3, 5, dtype=torch.float64))
    reply = {
        "ok": True,
        "value": wire.export(returned),
        "args": [wire.export(a) for a in args],
        "stdout": "epoch 1 loss 0.25\n",
        "violations": [],
    }
    return {"request": request, "reply": reply}


def microseconds(fn: Callable[[], object], n: int) -> float:
    """The best of five runs of ``n`` calls, per call."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    codecs = {"torch.save/load": (old_encode, old_decode), "grader.wire": (wire.encode, wire.decode)}
    print(f"{'message':<8} {'format':<16} {'bytes':>6} {'encode µs':>10} {'decode µs':>10} {'both µs':>9}")
    for name, message in messages().items():
        for label, (encode, decode) in codecs.items():
            frame = encode(message)
            payload = frame[8:]
            n = args.n if label == "grader.wire" else max(1, args.n // 20)
            encoding = microseconds(lambda encode=encode, message=message: encode(message), n)
            decoding = microseconds(lambda decode=decode, payload=payload: decode(payload), n)
            print(
                f"{name:<8} {label:<16} {len(frame):>6} {encoding:>10.1f} {decoding:>10.1f} {encoding + decoding:>9.1f}"
            )


if __name__ == "__main__":
    main()
