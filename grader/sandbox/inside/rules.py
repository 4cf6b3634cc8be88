"""The contract's rules, made true in a worker before any student code runs there, for the worker's whole life.

A worker serves the modules of one rule set (the grader forks another for each set), so a rule is not a switch
that a guard turns on around a call: what it forbids is taken out of the process, and nothing is left for
student code to find and turn back on.

- ``no_recurrent_modules``: every ATen operator of a recurrent layer or cell (``rnn_tanh``, ``gru_cell``,
  ``lstm``, the fused and quantized kernels, ...) is replaced in torch's dispatcher by a kernel that raises
  :class:`RuleViolation`, for every dispatch key a call can reach it by. Every name leads to the dispatcher
  (``torch.nn.GRU``, ``torch._VF.gru_cell``, ``torch.ops.aten.gru_cell``, ``torch._C._VariableFunctions``, a
  name computed at run time), so every one of them fails. The registration's handle is leaked on purpose:
  no Python object is left whose release would restore the original kernels.
- ``no_autograd``: gradient mode (and forward-mode AD) is switched off, and every way to switch it on
  (``torch._C._set_grad_enabled``, ``_set_fwd_grad_enabled``, ``_InferenceMode(False)``, ``_enter_dual_level``)
  is replaced, in every dictionary, list and set that held it when the zygote started, by a function that
  raises: with no gradient mode no graph is recorded, so ``backward``, ``torch.autograd.grad``, ``torch.func``
  and the rest have nothing to work on. The worker may start no thread (a new thread would begin with gradient
  mode on): the grader's system-call filter for such workers refuses them.

What this cannot stop: native code calling into libtorch directly (``ctypes``), and Python reimplementations
that ship with torch (``torch._decomp``'s GRU cell): the static check (:mod:`grader.rules`) refuses both by
name, and a computed name, in a module with a rule.
"""

from __future__ import annotations

import ctypes
import gc
import re
import warnings
from dataclasses import dataclass
from typing import Any

import torch

RULE_NAMES = {"no_autograd": "no autograd", "no_recurrent_modules": "no torch recurrent modules or their ops"}
RECURRENT_OP = re.compile(r"rnn|gru|lstm")
DISPATCH_KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "Autograd", "CPU")
OFF_SWITCHES = ("_set_grad_enabled", "_set_fwd_grad_enabled")


class RuleViolation(Exception):
    """Raised where student code reaches what its module's rules took out."""


def recurrent_op_refused(*args: Any, **kwargs: Any) -> Any:
    rule = RULE_NAMES["no_recurrent_modules"]
    raise RuleViolation(f"torch's recurrent layers and cells are not allowed here ({rule})")


def autograd_refused(*args: Any, **kwargs: Any) -> Any:
    raise RuleViolation(f"switching gradients on is not allowed here ({RULE_NAMES['no_autograd']})")


def only_off(mode: bool) -> None:
    """Gradient mode stays off: asking for it off is nothing to do, asking for it on is refused."""
    if mode:
        autograd_refused()


class InferenceModeOnly:
    """``torch.inference_mode(True)`` still works (gradients are off already); ``inference_mode(False)``, which
    would switch them on, is refused."""

    def __init__(self, mode: bool = True) -> None:
        if not mode:
            autograd_refused()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass(frozen=True)
class Targets:
    """What the rules replace, found once in the zygote (its lookups would cost every worker milliseconds): the
    recurrent operators, and every dictionary, list and set that holds one of gradient mode's switches."""

    ops: list[tuple[str, str]]
    holders: list[Any]


def switches() -> list[Any]:
    """The functions and the class through which gradients (or forward-mode AD) can be switched on."""
    return [getattr(torch._C, name) for name in (*OFF_SWITCHES, "_InferenceMode", "_enter_dual_level")]


def prepare() -> Targets:
    """In the zygote, once torch is imported: find the :class:`Targets`."""
    ops = [
        (namespace, op)
        for namespace, _, op in (name.partition("::") for name in torch._C._dispatch_get_all_op_names())
        if namespace in ("aten", "quantized") and RECURRENT_OP.search(op)
    ]
    found = switches()
    holders = [h for h in gc.get_referrers(*found) if h is not found and isinstance(h, dict | list | set)]
    return Targets(ops=ops, holders=holders)


SWITCHED_OFF = (only_off, only_off, InferenceModeOnly, autograd_refused)
"""What replaces each of :func:`switches`, in order."""


def forbid_recurrent_ops(targets: Targets) -> None:
    """Replace every recurrent operator of the ``aten`` and ``quantized`` namespaces in the dispatcher."""
    libraries = {namespace: torch._C._dispatch_library("IMPL", namespace, "") for namespace in ("aten", "quantized")}
    keys = [torch._C.DispatchKey.__members__[key] for key in DISPATCH_KEYS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel": that is the point
        for namespace, op in targets.ops:
            for key in keys:
                libraries[namespace].impl(op, key, recurrent_op_refused)
    for library in libraries.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))  # never released: the kernels stay replaced


def lock_autograd_off(targets: Targets) -> None:
    """Switch gradients off for good and replace each of their switches wherever it is held."""
    torch._C._set_grad_enabled(False)
    torch._C._set_fwd_grad_enabled(False)
    originals = switches()
    replacements = {id(old): new for old, new in zip(originals, SWITCHED_OFF, strict=True)}
    for holder in targets.holders:
        if isinstance(holder, dict):
            for key in [key for key, value in holder.items() if id(value) in replacements]:
                holder[key] = replacements[id(holder[key])]
        elif isinstance(holder, list):
            holder[:] = [replacements.get(id(value), value) for value in holder]
        else:
            for value in [value for value in holder if id(value) in replacements]:
                holder.discard(value)
                holder.add(replacements[id(value)])
    originals.clear()


def enforce(rules: dict[str, bool], targets: Targets) -> None:
    """Make ``rules`` true in this process, before student code runs."""
    if rules.get("no_recurrent_modules"):
        forbid_recurrent_ops(targets)
    if rules.get("no_autograd"):
        lock_autograd_off(targets)
