"""The contract's parameter names, with which feedback names a failed test's inputs (``x (5, 3, 4) float64, ...``).

They are the starters' signatures, and the starters are the references with their solutions cut
(:mod:`grader.starter`). In the course they are read from the reference's text, parsed and never imported; a
student bundle has no reference, so its release writes them to ``signatures.toml`` beside each ``assignment.toml``.
Both name the inputs alike, and neither is a submission, whose parameter names are a student's text.
"""

from __future__ import annotations

import ast
import functools
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from grader.spec import Assignment, AssignmentSpec, SpecError
from grader.starter import strip_solutions

FILE = "signatures.toml"
"""A student bundle's parameter names of one assignment, in its folder."""

Parameters = Mapping[str, tuple[str, ...]]
"""Each function's positional parameter names, in order."""


def contract_functions(spec: AssignmentSpec) -> frozenset[str]:
    """The functions (not the constants) a submission of ``spec`` defines."""
    return frozenset(name for name, function in spec.functions.items() if not function.constant)


def starter_parameters(source: str, functions: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """The positional parameters (the contract calls positionally) of each top-level function of ``source`` named in
    ``functions``, and of each such class's ``__init__`` (without ``self``)."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name in functions:
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            found[node.name] = tuple(a.arg for a in [*init.args.posonlyargs, *init.args.args][1:]) if init else ()
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in functions:
            found[node.name] = tuple(arg.arg for arg in [*node.args.posonlyargs, *node.args.args])
    return found


@functools.cache
def reference_parameters(reference: Path, functions: frozenset[str]) -> Parameters:
    """The parameters of the starter made from the reference module at ``reference``, read once per process."""
    starter = strip_solutions(reference.read_text(encoding="utf-8"), str(reference))
    return starter_parameters(starter, functions)


def signatures_toml(parameters: Parameters) -> str:
    """``parameters`` as the release writes them to a bundle's ``signatures.toml``."""
    header = "# The contract's parameter names (the starter's signatures): feedback names a test's inputs with them.\n"
    return header + "".join(f"{json.dumps(name)} = {json.dumps(list(names))}\n" for name, names in parameters.items())


@functools.cache
def released_parameters(path: Path) -> Parameters:
    """The parameter names a release wrote to ``path``, read once per process; a :class:`SpecError` naming it when
    they are not lists of identifiers (a name is shown in every report, so it can be nothing else)."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SpecError(f"{path}: cannot be read as TOML ({error}); restore it from the release") from None
    if not all(isinstance(v, list) and all(isinstance(n, str) and n.isidentifier() for n in v) for v in table.values()):
        raise SpecError(f"{path}: each function must map to a list of parameter names; restore it from the release")
    return {function: tuple(names) for function, names in table.items()}


def contract_parameters(assignment: Assignment, reference: ModuleType | None) -> Parameters:
    """The parameter names of ``assignment``'s functions: from its reference's starter when the reference is present,
    else from a bundle's ``signatures.toml``, else none (the inputs are then named ``arg0``, ``arg1``, ...)."""
    if reference is not None and reference.__file__:
        return reference_parameters(Path(reference.__file__), contract_functions(assignment.spec))
    released = assignment.folder / FILE
    return released_parameters(released) if released.is_file() else {}
