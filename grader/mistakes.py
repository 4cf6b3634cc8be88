"""Mistake catalogues: named misconceptions, each with a *mutant*, the reference making exactly that mistake.

An assignment's ``mistakes.py`` defines ``catalogue = Catalogue()`` and adds entries in one of two forms::

    catalogue.add(
        "rnn_missing_bias",
        mistake="the biases b_ih and b_hh are left out",
        right="the lecture has h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
        replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih.T + h_prev @ W_hh.T"},
    )

    @catalogue.replaces("gru_update_flipped", mistake="...", right="...")
    def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh): ...

``replace`` patches the reference's source (each old text must occur exactly once); a decorated function
replaces the reference's function of the same name, and runs with the mutant's globals, so the
reference's other functions (``rnn_forward`` calling ``rnn_cell``) make the mistake too. A mutant is
built fresh from the reference every time, so a catalogue never holds a copy of the reference. The format, how a
mistake is named and what ``grader validate`` requires of a catalogue: ``docs/catalogue.md``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from grader.student import import_module_from


class MutantError(ValueError):
    """A catalogue entry that does not apply to the reference."""


class Mistake(BaseModel):
    """One catalogue entry."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="stable id, reported in every machine-readable format")
    mistake: str = Field(
        description="what the mutant does, as a clause after 'we get if': 'the update gate is flipped'"
    )
    right: str = Field(description="the right form, from the lecture: 'the lecture has h' = z*h + (1-z)*n'")
    replace: dict[str, str] = Field(default_factory=dict, description="source patches of the reference: old -> new")
    functions: dict[str, Callable[..., Any]] = Field(default_factory=dict, description="replacement functions")

    def explain(self, function: str) -> str:
        """The sentence the student reads."""
        return f"Your {function} matches what we get if {self.mistake}: {self.right}."


class Catalogue:
    """An assignment's mistakes, in the order they are tried."""

    def __init__(self) -> None:
        self.mistakes: dict[str, Mistake] = {}

    def add(self, id: str, *, mistake: str, right: str, replace: dict[str, str] | None = None) -> Mistake:
        """Add mistake ``id``, whose mutant is the reference with the ``replace`` patches (each old text occurring once
        in the reference); the student reads ``Your <function> matches what we get if <mistake>: <right>.``"""
        if id in self.mistakes:
            raise MutantError(f"mistake {id!r} is in the catalogue twice")
        self.mistakes[id] = Mistake(id=id, mistake=mistake, right=right, replace=replace or {})
        return self.mistakes[id]

    def replaces(
        self, id: str, *, mistake: str | None = None, right: str | None = None, replace: dict[str, str] | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as mistake ``id``'s version of the reference's function of that name.

        Several functions may make up one mistake: decorate each; give ``mistake`` and ``right`` once.
        """

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            entry = self.mistakes.get(id)
            if entry is None:
                if mistake is None or right is None:
                    raise MutantError(f"mistake {id!r}: its first function must give mistake= and right=")
                entry = self.add(id, mistake=mistake, right=right, replace=replace)
            entry.functions[function.__name__] = function
            return function

        return register


def mutant_source(source: str, mistake: Mistake, filename: str) -> str:
    """The reference's source with the mistake's patches applied."""
    for old, new in mistake.replace.items():
        count = source.count(old)
        if count != 1:
            raise MutantError(f"mistake {mistake.id!r}: {old!r} occurs {count} times in {filename}, not once")
        source = source.replace(old, new)
    return source


def build_mutant(reference: Path, mistake: Mistake) -> types.ModuleType:
    """A fresh module: the reference at ``reference`` making ``mistake``."""
    patched = mutant_source(reference.read_text(encoding="utf-8"), mistake, str(reference))
    module = types.ModuleType(f"mutant_{mistake.id}")
    module.__file__ = str(reference)
    exec(compile(patched, f"<mutant {mistake.id} of {reference.name}>", "exec"), module.__dict__)
    for name, function in mistake.functions.items():
        if not callable(getattr(module, name, None)):
            raise MutantError(f"mistake {mistake.id!r} replaces {name}, which {reference.name} does not define")
        for global_name in function.__code__.co_names:
            if global_name not in module.__dict__ and global_name in function.__globals__:
                module.__dict__[global_name] = function.__globals__[global_name]
        module.__dict__[name] = types.FunctionType(
            function.__code__, module.__dict__, name, function.__defaults__, function.__closure__
        )
    return module


SCALARS = (type(None), bool, int, float, complex, str, bytes)


def code_key(code: types.CodeType) -> tuple[Any, ...]:
    """What a function's code does, without where it stands (file, lines): its bytecode, names and constants, each
    constant with its type (``1`` is not ``1.0``), nested functions alike."""
    consts = tuple(
        code_key(c) if isinstance(c, types.CodeType) else (type(c).__qualname__, repr(c)) for c in code.co_consts
    )
    names = code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars
    return code.co_code, code.co_exceptiontable, names, consts


def value_key(value: Any) -> Any:
    """A comparable form of a global the mutant's module made itself: scalars, tuples of them and functions without a
    closure; None for the rest (a class, a tensor, an object: never taken to be unchanged)."""
    if type(value) in SCALARS or (type(value) is tuple and all(type(v) in SCALARS for v in value)):
        return (type(value).__qualname__, repr(value))
    if isinstance(value, types.FunctionType) and value.__closure__ is None:
        return code_key(value.__code__), repr(value.__defaults__), repr(value.__kwdefaults__)
    return None


def same_global(a: Any, b: Any) -> bool:
    """Whether two modules' values of one global are the same (one object, as an import is) or equal by
    :func:`value_key`."""
    return a is b or (value_key(a) is not None and value_key(a) == value_key(b))


def names_used(code: types.CodeType) -> set[str]:
    """The global and attribute names ``code`` and the functions nested in it mention."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= names_used(const)
    return names


def changed_functions(mutant: types.ModuleType, reference: types.ModuleType) -> frozenset[str]:
    """The mutant's functions whose result may differ from the reference's: those whose code differs, and those
    that use, however indirectly, a global that differs or cannot be compared. Any other function computes what the
    reference's does."""
    ours, theirs = vars(mutant), vars(reference)
    differing = {name for name in ours.keys() | theirs.keys() if name not in ours or name not in theirs}
    differing |= {name for name in ours.keys() & theirs.keys() if not same_global(ours[name], theirs[name])}
    functions = {name: value for name, value in ours.items() if isinstance(value, types.FunctionType)}
    uses = {name: names_used(function.__code__) for name, function in functions.items()}
    changed = {name for name in functions if name in differing}
    while more := {name for name in functions.keys() - changed if uses[name] & (differing | changed)}:
        changed |= more
    return frozenset(changed)


def load_catalogue(path: Path) -> Catalogue | None:
    """The ``catalogue`` of an assignment's ``mistakes.py``, or None where there is none."""
    if not path.is_file():
        return None
    catalogue = getattr(import_module_from(path), "catalogue", None)
    if not isinstance(catalogue, Catalogue):
        raise MutantError(f"{path}: define catalogue = Catalogue() and add the mistakes to it")
    return catalogue
