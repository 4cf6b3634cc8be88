"""One check per kind of value, cheapest first (type, shape, dtype, non-finite, values), one voice.

Every check takes ``(name, got, expected, tolerance)`` and raises :class:`GradingFailure` whose message
quotes ``name``, e.g. ``'h' has the wrong shape: got (3, 4), expected (3, 5)``. :func:`check_value`
walks tuples, lists and dicts and dispatches to the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import torch

from grader.feedback import Feedback, FeedbackKind, Generic, GradingFailure
from grader.sandbox.inside.wire import Unsupported, type_name
from grader.spec import Tolerance

SIX_DECIMALS = Tolerance(rtol=0.0, atol=5.01e-7)
"""For the lecture's worked numbers, printed to six decimals."""
TYPE_NAME_CHARS = 100
"""How much of a type's name feedback quotes: a student's class may have any name."""
ALIASED = (
    "Every step of '{name}' equals its last one, {name}[t] == {name}[-1] for every t, where the expected steps differ: "
    "you appended a tensor that was later updated in place, so every entry is that same tensor; append a new tensor "
    "at each step (h = ..., not h[...] = ... or h += ...)."
)
"""The explanation of a sequence whose steps are all one tensor (:func:`aliased`)."""
ROUNDED_DIGITS = 3
"""The most significant digits a hidden test shows of an expected value: see :func:`rounded`."""


def fail(kind: FeedbackKind, name: str, message: str, **details: Any) -> GradingFailure:
    """A failure about the output ``name``."""
    return GradingFailure(Feedback(kind=kind, message=message, output=name, **details))


DOTTED_NAME = r"[A-Za-z_][A-Za-z0-9_]*(\.(<locals>|[A-Za-z_][A-Za-z0-9_]*))*"
"""A type's name as Python spells one (``numpy.int64``, ``f.<locals>.C``): anything else is shown quoted."""


def describe(value: Any) -> str:
    """A short description of a value's type (``numpy.int64``, with its module outside the builtins; for a value
    the worker could not send, the name of its real type) and, for tensors, shape and dtype."""
    if type(value) is torch.Tensor:
        return f"tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    name = value.type_name if isinstance(value, Unsupported) else type_name(value)
    if not re.fullmatch(DOTTED_NAME, name):  # a name the student's code chose: shown as a quoted string, on one line
        name = repr(name)
    name = name if len(name) <= TYPE_NAME_CHARS else name[: TYPE_NAME_CHARS - 3] + "..."
    return f"{name} (a tensor subclass)" if isinstance(value, torch.Tensor) else name


def a(noun: str) -> str:
    """``noun`` with its indefinite article: ``an int``, ``a float``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def wrong_type(name: str, got: Any, expected: str, hint: str = "", mistake: Generic | None = None) -> GradingFailure:
    """``'h' should be a torch.Tensor but is a list``, with ``hint`` after it."""
    return fail(
        "type",
        name,
        f"'{name}' should be {a(expected)} but is {a(describe(got))}{hint}",
        got=describe(got),
        expected=expected,
        diagnosis=mistake,
    )


def rounded(value: float, tolerance: Tolerance) -> str:
    """``value`` to at most :data:`ROUNDED_DIGITS` significant digits, fewer where those would pass ``tolerance``: a
    hidden test's expected value, which copied into a submission fails the check unless it has that few digits."""
    for digits in range(ROUNDED_DIGITS, 0, -1):
        text = f"{value:.{digits}g}"
        if abs(float(text) - value) > tolerance.atol + tolerance.rtol * abs(value):
            break
    return text


def relative_floor(tolerance: Tolerance) -> float:
    """The magnitude below which an expected value counts as ~0 for a relative error: where ``tolerance`` is as good as
    absolute (``atol / rtol``), so that an error at an expected 0 is not divided by 0 (inf: no relative error at
    all, for an absolute tolerance)."""
    return max(tolerance.atol / tolerance.rtol, 1e-300) if tolerance.rtol else math.inf


def aliased(got: torch.Tensor, expected: torch.Tensor, tolerance: Tolerance) -> bool:
    """Whether every step of the sequence ``got`` (time first, T >= 2) is its last step, and that last step is right:
    the mark of one tensor appended at every step and updated in place (the expected steps differ, or ``got`` would
    pass)."""
    if got.dim() < 3 or got.shape[0] < 2 or not expected.is_floating_point():
        return False
    return bool(elementwise_close(got[-1], expected[-1], tolerance).all()) and bool((got == got[-1]).all())


def unravel(flat: int, shape: tuple[int, ...]) -> list[int]:
    """The index in a tensor of ``shape`` of its element number ``flat`` in row-major order (what
    ``torch.unravel_index`` says, without the sympy import its first call costs)."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return index[::-1]


def elementwise_close(got: torch.Tensor, expected: torch.Tensor, tolerance: Tolerance) -> torch.Tensor:
    """Where ``got`` (of ``expected``'s shape and dtype) passes: within ``tolerance`` for floating point (NaN where
    NaN is expected), equal otherwise."""
    if expected.is_floating_point():
        return torch.isclose(got, expected, rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=True)
    return got == expected


def check_tensor(name: str, got: Any, expected: torch.Tensor, tolerance: Tolerance) -> None:
    """``got`` is exactly a ``torch.Tensor`` of ``expected``'s shape and dtype, finite where it is, and close."""
    if type(got) is not torch.Tensor:
        if isinstance(got, list | tuple):
            hint = " (torch.stack turns a list of tensors into one tensor)"
            raise wrong_type(name, got, "torch.Tensor", hint, Generic.LIST_FOR_TENSOR)
        raise wrong_type(name, got, "torch.Tensor")
    if got.shape != expected.shape:
        raise fail(
            "shape",
            name,
            f"'{name}' has the wrong shape: got {tuple(got.shape)}, expected {tuple(expected.shape)}",
            got=str(tuple(got.shape)),
            expected=str(tuple(expected.shape)),
        )
    if got.dtype != expected.dtype:
        raise fail(
            "dtype",
            name,
            f"'{name}' has the wrong dtype: got {got.dtype}, expected {expected.dtype} "
            "(return the dtype of the inputs)",
            got=str(got.dtype),
            expected=str(expected.dtype),
        )
    got = got.detach()
    if torch.equal(got, expected):  # the common case of a right answer, decided in one operation
        return
    if expected.is_floating_point():
        bad = ~torch.isfinite(got) & torch.isfinite(expected)
        if bad.any():
            index = [int(i) for i in bad.nonzero()[0]]
            count = int(bad.sum())
            raise fail(
                "nonfinite",
                name,
                f"'{name}' has {count} NaN or infinite value{'s' * (count > 1)} where "
                f"the expected values are finite, first at index {tuple(index)}",
                worst_index=index,
                got=str(got[tuple(index)].item()),
                expected=f"{expected[tuple(index)].item():.8g}",
                expected_rounded=rounded(expected[tuple(index)].item(), tolerance),
            )
    close = elementwise_close(got, expected, tolerance)
    if bool(close.all()):
        return
    error = (got.double() - expected.double()).abs().nan_to_num(nan=0.0)
    excess = error - tolerance.atol - tolerance.rtol * expected.double().abs()
    flat = int(excess.flatten().argmax())
    index = unravel(flat, tuple(expected.shape))
    floor = relative_floor(tolerance)
    max_rel = float((error / expected.double().abs().clamp_min(floor)).max()) if floor < math.inf else None
    count, total = int((~close).sum()), close.numel()
    worst = expected[tuple(index)].item()
    explanation = ALIASED.format(name=name) if aliased(got, expected, tolerance) else None
    raise fail(
        "value",
        name,
        f"'{name}' has {count} of {total} values wrong",
        worst_index=index,
        got=f"{got[tuple(index)].item():.8g}",
        expected=f"{worst:.8g}",
        expected_rounded=rounded(worst, tolerance),
        max_abs_error=float(error.max()),
        max_rel_error=max_rel,
        diagnosis=Generic.ALIASED_STEPS if explanation else None,
        explanation=explanation,
    )


def check_float(name: str, got: Any, expected: float, tolerance: Tolerance) -> None:
    """``got`` is a Python float (an int is accepted) close to ``expected``."""
    if isinstance(got, bool) or not isinstance(got, float | int):
        if isinstance(got, torch.Tensor):
            hint = " (use .item() to turn a 0-dim tensor into a float)"
            raise wrong_type(name, got, "Python float", hint, Generic.TENSOR_FOR_NUMBER)
        raise wrong_type(name, got, "Python float")
    try:
        got = float(got)
    except OverflowError:
        raise fail(
            "nonfinite",
            name,
            f"'{name}' is not a finite float: the int returned ({got.bit_length()} bits) does not fit a float",
            got=f"an int of {got.bit_length()} bits",
            expected=f"{expected:.8g}",
            expected_rounded=rounded(expected, tolerance),
        ) from None
    if got != got or got in (float("inf"), float("-inf")):
        raise fail(
            "nonfinite",
            name,
            f"'{name}' is {got} where the expected value is finite",
            got=str(got),
            expected=f"{expected:.8g}",
            expected_rounded=rounded(expected, tolerance),
        )
    error = abs(got - expected)
    if error > tolerance.atol + tolerance.rtol * abs(expected):
        floor = relative_floor(tolerance)
        raise fail(
            "value",
            name,
            f"'{name}' is wrong",
            got=f"{got:.8g}",
            expected=f"{expected:.8g}",
            expected_rounded=rounded(expected, tolerance),
            max_abs_error=error,
            max_rel_error=error / max(abs(expected), floor) if floor < math.inf else None,
        )


def shown(value: Any, limit: int = 200) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters; an int too long to print is described instead."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an int of {value.bit_length()} bits"
    try:
        text = repr(value)
    except Exception:
        return describe(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_exact(name: str, got: Any, expected: Any) -> None:
    """``got`` has ``expected``'s type (int, str, bool) and equals it."""
    if type(got) is not type(expected) and not (
        type(expected) is int and isinstance(got, int) and not isinstance(got, bool)
    ):
        if isinstance(got, torch.Tensor) and type(expected) in (int, bool):
            hint = f" (use .item() to turn a 0-dim tensor into {a(type(expected).__qualname__)})"
            raise wrong_type(name, got, type(expected).__qualname__, hint, Generic.TENSOR_FOR_NUMBER)
        raise wrong_type(name, got, type(expected).__qualname__)
    if got != expected:
        raise fail("value", name, f"'{name}' is wrong", got=shown(got), expected=shown(expected))


def check_dict(name: str, got: Any, expected: dict[Any, Any], tolerance: Tolerance) -> None:
    """``got`` is a dict with exactly ``expected``'s keys, each value checked by :func:`check_value`."""
    if not isinstance(got, dict):
        raise wrong_type(name, got, "dict")
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    if missing or extra:
        parts = ([f"missing keys {shown(missing)}"] if missing else []) + (
            [f"unexpected keys {shown(extra)}"] if extra else []
        )
        raise fail(
            "type",
            name,
            f"'{name}' has the wrong keys: {'; '.join(parts)}",
            got=shown(sorted(map(shown, got))),
            expected=shown(sorted(map(str, expected))),
        )
    for key, value in expected.items():
        check_value(f"{name}[{shown(key)}]", got[key], value, tolerance)


def check_sequence(name: str, got: Any, expected: tuple[Any, ...] | list[Any], tolerance: Tolerance) -> None:
    """``got`` is a tuple or list of ``expected``'s length, element by element."""
    kind = "tuple" if isinstance(expected, tuple) else "list"
    if not isinstance(got, tuple | list):
        raise wrong_type(name, got, kind)
    if len(got) != len(expected):
        raise fail(
            "shape",
            name,
            f"'{name}' has the wrong length: got {len(got)}, expected {len(expected)}",
            got=str(len(got)),
            expected=str(len(expected)),
        )
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        check_value(f"{name}[{i}]", g, e, tolerance)


def check_value(name: str, got: Any, expected: Any, tolerance: Tolerance) -> None:
    """Check ``got`` against ``expected`` with the check that fits ``expected``'s type."""
    if isinstance(expected, torch.Tensor):
        check_tensor(name, got, expected, tolerance)
    elif isinstance(expected, float):
        check_float(name, got, expected, tolerance)
    elif isinstance(expected, dict):
        check_dict(name, got, expected, tolerance)
    elif isinstance(expected, tuple | list):
        check_sequence(name, got, expected, tolerance)
    else:
        check_exact(name, got, expected)


def check_outputs(outputs: Sequence[str | Sequence[str]], got: Any, expected: Any, tolerance: Tolerance) -> None:
    """Check a function's result against the reference's, naming each output as the spec does."""
    if len(outputs) == 1 and isinstance(outputs[0], str):
        check_value(outputs[0], got, expected, tolerance)
        return
    label = "(" + ", ".join(o if isinstance(o, str) else "(" + ", ".join(o) + ")" for o in outputs) + ")"
    if not isinstance(got, tuple | list):
        raise fail(
            "type",
            label,
            f"the result should be a tuple {label} but is {a(describe(got))}",
            got=describe(got),
            expected="tuple",
        )
    if len(got) != len(outputs):
        raise fail(
            "shape",
            label,
            f"the result should be a tuple of {len(outputs)} {label}, got {len(got)} values",
            got=str(len(got)),
            expected=str(len(outputs)),
        )
    for name, g, e in zip(outputs, got, expected, strict=True):
        check_outputs([name], g, e, tolerance) if isinstance(name, str) else check_outputs(name, g, e, tolerance)


def check_result(outputs: Sequence[str | Sequence[str]], got: Any, expected: Any, tolerance: Tolerance) -> None:
    """:func:`check_outputs`, where a check that breaks on the student's value (an exotic value no check foresaw)
    fails that value with a :class:`GradingFailure`, as any other wrong value does, never the grader."""
    try:
        check_outputs(outputs, got, expected, tolerance)
    except GradingFailure:
        raise
    except Exception as error:
        names = ", ".join(o if isinstance(o, str) else "(" + ", ".join(o) + ")" for o in outputs)
        raise fail(
            "type",
            names,
            f"the result ({describe(got)}) could not be checked against the contract's {names}: checking it raised "
            f"{type(error).__name__}; return the types and shapes the handout gives",
            got=describe(got),
        ) from None
