"""The contract's rules, made true in a worker before any student code runs there, for the worker's whole life.

A worker serves the modules of one rule set (the grader forks another when a module needs a rule the worker
cannot take on), so a rule is not a switch that a guard turns on around a call: what it forbids is taken out of
the process, and nothing is left for student code to find and turn back on.

- ``no_recurrent_modules``: every ATen operator of a recurrent layer or cell (``rnn_tanh``, ``gru_cell``,
  ``lstm``, the fused and quantized kernels, ...) has each of its kernels replaced in torch's dispatcher by one
  that raises :class:`RuleViolation`: at every key of :data:`DISPATCH_KEYS` where it has one (a CPU tensor's call
  reaches one of them whichever key it dispatches by, the composite kernels standing in for missing ones).
  Every name leads to the dispatcher
  (``torch.nn.GRU``, ``torch._VF.gru_cell``, ``torch.ops.aten.gru_cell``, ``torch._C._VariableFunctions``, a
  name computed at run time), so every one of them fails. The registration's handle is leaked on purpose:
  no Python object is left whose release would restore the original kernels.
- ``no_recurrent_layers``: the same for the operators of the recurrent layers alone, those whose name has no
  ``cell`` in it (``rnn_tanh``, ``gru``, ``lstm``, each with its ``.input`` and ``.data`` overloads; the kernels
  of other libraries: ``_cudnn_rnn``, ``miopen_rnn``, ``mkldnn_rnn_layer``, ``_lstm_mps``; ``quantized_gru``,
  ``quantized_lstm``; and their backward and weight-flattening helpers): each runs a whole sequence, and only
  the layers (``torch.nn.RNN``, ``GRU``, ``LSTM``, their quantized versions) call them. The ``*_cell``
  operators (``rnn_tanh_cell``, ``gru_cell``, ``lstm_cell``, their quantized versions, and the fused pointwise
  kernels ``_thnn_fused_*_cell`` with their backward, which only a cell calls) keep their kernels:
  ``torch.nn.RNNCell``, ``GRUCell`` and ``LSTMCell`` work, autograd through them included, so a student writes
  the loop over time. With ``no_recurrent_modules`` too, the stricter rule is the one made true
  (:class:`grader.spec.Rules` refuses both).
- ``no_autograd``: gradient mode (and forward-mode AD) is switched off, and every way to switch it on
  (``torch._C._set_grad_enabled``, ``_set_fwd_grad_enabled``, ``_InferenceMode(False)``, ``_enter_dual_level``)
  is replaced, in every dictionary, list and set that held it when the zygote started, by a function that
  raises: with no gradient mode no graph is recorded, so ``backward``, ``torch.autograd.grad``, ``torch.func``
  and the rest have nothing to work on. The worker may start no thread (a new thread would begin with gradient
  mode on): the grader's system-call filter for such workers refuses them.

Under both recurrent rules, torch's own recurrent layers and cells written in Python
(``torch._decomp.decompositions.gru_impl``, the quantizable LSTM), which the dispatcher never sees, get the
refusal's code in place, so every reference to them raises; under ``no_recurrent_layers`` the layers only
(``gru_impl``, ``one_layer_lstm``, the quantizable ``_LSTMLayer`` and ``LSTM``), not the cells.

Every rule is made true when a worker starts, never later: student code that ran before could have replaced
:func:`enforce` itself, torch's dispatcher registration or the targets, so a worker never takes a rule on after
student code ran in it, and a module graded under other rules gets a fresh worker. A module may be graded under
stricter rules than its own (:func:`grader.rules.host_rules`): each refusal is recorded in :data:`REFUSED`, and the
grader grades a module again under its own rules where it met one that is not its own.

What this cannot stop: native code calling into libtorch directly (``ctypes``), and a Python reimplementation
in a torch module loaded only after the worker started: the static check (:mod:`grader.rules`) refuses both by
name, and a computed name, in a module with a rule.
"""

from __future__ import annotations

import ctypes
import gc
import re
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

RULE_NAMES = {
    "no_autograd": "no autograd",
    "no_recurrent_modules": "no torch recurrent modules or their ops",
    "no_recurrent_layers": "no torch recurrent layers (cells are allowed)",
}
RECURRENT_OP = re.compile(r"rnn|gru|lstm")
DISPATCH_KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "Autograd", "CPU")
OFF_SWITCHES = ("_set_grad_enabled", "_set_fwd_grad_enabled")


class RuleViolation(Exception):
    """Raised where student code reaches what its module's rules took out."""


REFUSED: set[str] = set()
"""The rules whose refusal ran since the worker last cleared this (it does before each request): what a module
graded under stricter rules than its own met of them, even where its code caught the :class:`RuleViolation`.
Student code can change it, which only makes the grader grade that module again, in a worker of its own rules."""


RECURRENT_REFUSED = "torch's recurrent layers and cells are not allowed here (no torch recurrent modules or their ops)"
LAYERS_REFUSED = (
    "torch's recurrent layers (torch.nn.RNN, GRU, LSTM and the operators behind them) are not allowed here, but "
    "torch.nn.RNNCell, GRUCell and LSTMCell are: write the loop over time with one of them "
    f"({RULE_NAMES['no_recurrent_layers']})"
)


def layer(name: str) -> bool:
    """Whether a recurrent operator or Python function of torch, by its name, is a layer's (not a cell's)."""
    return "cell" not in name.lower()


def recurrent_op_refused(*args: Any, **kwargs: Any) -> Any:
    REFUSED.add("no_recurrent_modules")
    raise RuleViolation(RECURRENT_REFUSED)


def recurrent_layer_refused(*args: Any, **kwargs: Any) -> Any:
    REFUSED.add("no_recurrent_layers")
    raise RuleViolation(LAYERS_REFUSED)


def autograd_refused(*args: Any, **kwargs: Any) -> Any:
    REFUSED.add("no_autograd")
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


PYTHON_RECURRENT = ("torch._decomp.decompositions", "torch.ao.nn.quantizable.modules.rnn", "torch.export._patches")
"""torch's modules that write recurrent cells and layers in Python, out of the dispatcher's sight."""


def python_recurrent(cells: bool) -> list[Any]:
    """The recurrent functions and classes that :data:`PYTHON_RECURRENT` modules loaded here define: the layers',
    and the cells' too when ``cells``."""
    found = []
    for name in PYTHON_RECURRENT:
        namespace = vars(sys.modules[name]) if name in sys.modules else {}
        found += [
            value
            for key, value in namespace.items()
            if RECURRENT_OP.search(key.lower())
            and (cells or layer(key))
            and isinstance(value, types.FunctionType | type)
            and getattr(value, "__module__", None) == name
        ]
    return found


def disarmed(*args: Any, refusal: Callable[[], Any], **kwargs: Any) -> Any:
    """The code a disarmed function runs, with its own module's globals: so it names nothing but ``refusal``, its
    keyword default (:func:`recurrent_op_refused` or :func:`recurrent_layer_refused`)."""
    return refusal()


def disarm(value: Any, refusal: Callable[[], Any]) -> None:
    """Make a recurrent function of torch's, or a class's constructor and ``forward``, raise wherever it is held
    (a tuple, a closure, an instance made earlier): the function object itself gets the code of :func:`disarmed`,
    which calls ``refusal``."""
    functions = [value] if isinstance(value, types.FunctionType) else []
    if isinstance(value, type):
        functions = [
            f for f in (vars(value).get("__init__"), vars(value).get("forward")) if isinstance(f, types.FunctionType)
        ]
    for function in functions:
        if not function.__code__.co_freevars:
            function.__code__ = disarmed.__code__
            function.__defaults__, function.__kwdefaults__ = None, {"refusal": refusal}


def switches() -> list[Any]:
    """The functions and the class through which gradients (or forward-mode AD) can be switched on."""
    return [getattr(torch._C, name) for name in (*OFF_SWITCHES, "_InferenceMode", "_enter_dual_level")]


Place = tuple[Any, Any, Any]
"""``(holder, key, value)``: ``holder[key] is value`` for a dictionary or a list, ``value in holder`` for a set."""


@dataclass(frozen=True)
class Targets:
    """What the rules replace, found once in the zygote (its lookups would cost every worker milliseconds): the
    recurrent operators, layers' and cells' apart, torch's recurrent layers and cells written in Python, and every
    place (a dictionary's key, a list's index, a set) that holds one of them or one of gradient mode's switches."""

    layer_kernels: list[tuple[str, str, str]]
    """``(namespace, operator, dispatch key)`` of each recurrent layer operator's kernels at :data:`DISPATCH_KEYS`."""
    cell_kernels: list[tuple[str, str, str]]
    """The same for the operators of recurrent cells (a ``cell`` in their name)."""
    python_layers: list[Any]
    """torch's recurrent layers written in Python (:func:`python_recurrent`)."""
    python_cells: list[Any]
    """Its recurrent cells written in Python."""
    switch_places: list[Place]
    python_places: list[Place]


def places_of(objects: list[Any]) -> list[Place]:
    """Every place where a dictionary, list or set holds one of ``objects``."""
    wanted = {id(value) for value in objects}
    places: list[Place] = []
    for holder in gc.get_referrers(*objects):
        if holder is objects:
            continue
        if isinstance(holder, dict):
            places += [(holder, key, value) for key, value in holder.items() if id(value) in wanted]
        elif isinstance(holder, list):
            places += [(holder, index, value) for index, value in enumerate(holder) if id(value) in wanted]
        elif isinstance(holder, set):
            places += [(holder, None, value) for value in holder if id(value) in wanted]
    return places


def prepare() -> Targets:
    """In the zygote, once torch is imported: find the :class:`Targets`."""
    ops = [
        (namespace, op)
        for namespace, _, op in (name.partition("::") for name in torch._C._dispatch_get_all_op_names())
        if namespace in ("aten", "quantized") and RECURRENT_OP.search(op)
    ]
    keys = torch._C.DispatchKey.__members__
    kernels = [
        (namespace, op, key)
        for namespace, op in ops
        for key in DISPATCH_KEYS
        if torch._C._dispatch_has_kernel_for_dispatch_key(f"{namespace}::{op}", keys[key])
    ]
    python, layers = python_recurrent(cells=True), python_recurrent(cells=False)
    return Targets(
        layer_kernels=[kernel for kernel in kernels if layer(kernel[1])],
        cell_kernels=[kernel for kernel in kernels if not layer(kernel[1])],
        python_layers=layers,
        python_cells=[value for value in python if all(value is not known for known in layers)],
        switch_places=places_of(switches()),
        python_places=places_of(python),
    )


def holds(place: Place) -> bool:
    holder, key, value = place
    if isinstance(holder, dict):
        return key in holder and holder[key] is value
    if isinstance(holder, list):
        return key < len(holder) and holder[key] is value
    return value in holder


def replace_at(places: list[Place], replacements: dict[int, Any]) -> None:
    """At each of ``places`` whose value is a key of ``replacements`` (by ``id``), put its replacement instead. A
    place found in the zygote still holds its value in a new worker, where nothing ran in between; should one not,
    its holder is searched again."""
    for holder, key, value in places:
        new = replacements.get(id(value))
        if new is None:
            continue
        if not holds((holder, key, value)):
            replace_at([place for place in places_of([value]) if place[0] is holder], replacements)
        elif isinstance(holder, set):
            holder.discard(value)
            holder.add(new)
        else:
            holder[key] = new


SWITCHED_OFF: tuple[Any, ...] = (only_off, only_off, InferenceModeOnly, autograd_refused)
"""What replaces each of :func:`switches`, in order."""


def forbid_recurrent_ops(targets: Targets, cells: bool) -> None:
    """Replace in the dispatcher every kernel of the recurrent layers' operators of the ``aten`` and ``quantized``
    namespaces, and of the cells' when ``cells``, and torch's recurrent layers (and cells) written in Python
    wherever they are held, by a refusal that says which (:func:`recurrent_op_refused`,
    :func:`recurrent_layer_refused`)."""
    refusal = recurrent_op_refused if cells else recurrent_layer_refused
    libraries = {namespace: torch._C._dispatch_library("IMPL", namespace, "") for namespace in ("aten", "quantized")}
    keys = torch._C.DispatchKey.__members__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel": that is the point
        for namespace, op, key in targets.layer_kernels + (targets.cell_kernels if cells else []):
            libraries[namespace].impl(op, keys[key], refusal)
    for library in libraries.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))  # never released: the kernels stay replaced
    found = targets.python_layers + (targets.python_cells if cells else [])
    for value in found:
        disarm(value, refusal)
    replace_at(targets.python_places, {id(value): refusal for value in found})


def lock_autograd_off(targets: Targets) -> None:
    """Switch gradients off for good and replace each of their switches wherever it is held."""
    torch._C._set_grad_enabled(False)
    torch._C._set_fwd_grad_enabled(False)
    replacements = {id(old): new for old, new in zip(switches(), SWITCHED_OFF, strict=True)}
    replace_at(targets.switch_places, replacements)


def enforce(rules: dict[str, bool], targets: Targets) -> None:
    """Make ``rules`` true in this process, before any student code runs in it (code that ran first could have
    replaced this very function, or the dispatcher's registration it uses); of the two recurrent rules,
    ``no_recurrent_modules`` refuses all that ``no_recurrent_layers`` does and more."""
    if rules.get("no_recurrent_modules"):
        forbid_recurrent_ops(targets, cells=True)
    elif rules.get("no_recurrent_layers"):
        forbid_recurrent_ops(targets, cells=False)
    if rules.get("no_autograd"):
        lock_autograd_off(targets)
