"""The contract's rules checked statically on a submission's source, before any of it runs.

Where a use counts: a use inside a top-level function or class is charged to that function (and to every
function that names it); a use in code that runs when the module is imported (module level, outside any
``def``) is charged to every function, and its message says so: ``reference = torch.nn.RNN(3, 4)`` at module
level (a notebook cell's assignment included) builds the module on import, during grading. A function's
decorators and defaults are charged to it; annotations only name types and are not read. The body of
``if __name__ == "__main__":`` (and of ``if TYPE_CHECKING:``) never runs while the module is graded (the worker
imports it under its own name), so nothing in it counts, unless the module assigns ``__name__`` itself.

What counts: only what the source pins to torch. The module's bindings are followed, scope by scope
(``import torch.nn as nn``, ``from torch import _VF``, ``from torch.nn import functional as F``,
``nn = torch.nn``), and an attribute chain is a breach when it roots in torch and names a forbidden module
or op (``nn.GRU``, ``t._VF.gru_cell``, ``torch.autograd.grad``, ``torch.func``, ``torch.enable_grad``; under
``no_recurrent_layers`` a layer's only, ``nn.LSTM`` or ``torch._VF.lstm``, never a cell's, ``nn.RNNCell`` or
``torch._VF.rnn_tanh_cell``); a
forbidden name imported from torch is a breach at the import; ``requires_grad=`` is a breach in a call into
torch (``torch.zeros(3, requires_grad=True)``). A method called on anything else (``self.backward()``,
``obj.gru_cell(x)``, and so also a tensor's ``.backward()``, ``.requires_grad_()`` or
``.requires_grad = True``) cannot be pinned without running the code: it is left to the worker's run-time
rules (:mod:`grader.sandbox.inside.rules`), which hold for every real tensor use. In a module with a rule, native
code (``import ctypes``, ``cffi``, and ``.ctypes`` of any object, which torch re-exports) is a breach: it could
call into torch's own library past them.

A name computed at run time on torch is a breach by itself, since no reading can tell what it names:
``getattr(torch, "auto" + "grad")``, ``__import__(name)``, ``importlib.import_module("torch." + name)``,
``vars(torch)[key]``, ``torch.__dict__`` or ``sys.modules`` used other than with a constant key, and
``eval``/``exec``/``compile`` of a string that is not a constant (a constant one is read as code).

Not followed (the run-time guards still are): names another module of the submission brings by a star
import, ``globals()``, ``operator.attrgetter``, objects passed in or returned, and the tensors themselves.
Code nested deeper than a reading can follow (hundreds of levels, which the parser takes) is a breach at module
level: no honest solution is that deep.

A use's message names the student's own line: ``rnn_forward.py line 12``, or for a module made from a
notebook (:mod:`grader.notebook`) ``rnn_forward.ipynb cell 3 line 2``, counting the lines of the code the
grader kept from that cell (blank lines and dropped statements between its top-level statements are not
kept, so the count can fall short of the line Jupyter shows).
"""

from __future__ import annotations

import ast
import bisect
import builtins
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from grader.intake import parse
from grader.spec import Rules

RECURRENT_LAYERS = {"RNNBase", "RNN", "GRU", "LSTM", "rnn_tanh", "rnn_relu", "gru", "lstm"}
"""The names of torch's recurrent layers and their ops, which ``no_recurrent_layers`` refuses."""
RECURRENT = RECURRENT_LAYERS | {
    "RNNCellBase",
    "RNNCell",
    "GRUCell",
    "LSTMCell",
    "_VF",
    "rnn_tanh_cell",
    "rnn_relu_cell",
    "gru_cell",
    "lstm_cell",
}
"""The names ``no_recurrent_modules`` refuses: the layers, the cells, and ``torch._VF``, which holds their ops."""
PYTHON_RECURRENT = ("torch._decomp", "torch.export", "torch.ao.nn.quantizable", "torch.ao.nn.quantized")
"""Where torch writes recurrent cells in Python (``torch._decomp.decompositions.gru_cell``): their names are refused."""
RECURRENT_NAME = re.compile(r"rnn|gru|lstm", re.IGNORECASE)
AUTOGRAD = {"autograd", "backward", "requires_grad", "requires_grad_", "enable_grad", "set_grad_enabled"}
AUTOGRAD_MODULES = ("torch.func", "torch._functorch", "functorch")
GRAD_OFF = {"no_grad", "inference_mode"}
"""Names under ``torch.autograd`` that turn autograd off: allowed."""
ROOTS = {"torch", "functorch"}
NATIVE = {"ctypes", "_ctypes", "cffi"}
RULE_NAMES = {
    "no_recurrent_modules": "no torch recurrent modules or their ops",
    "no_recurrent_layers": "no torch recurrent layers (cells are allowed)",
    "no_autograd": "no autograd",
}
"""As :data:`grader.sandbox.inside.rules.RULE_NAMES` has them."""
GETTERS = {"builtins.getattr", "builtins.object.__getattribute__", "builtins.type.__getattribute__"}
IMPORTERS = {"builtins.__import__", "importlib.import_module", "importlib.__import__"}
DUNDER_GETTERS = (".__getattribute__", ".__getattr__")
CODE_RUNNERS = {"builtins.eval", "builtins.exec", "builtins.compile"}
NAMESPACE = ".__dict__"
LOOKUP = "looks a name up in torch's namespace: a computed name"
CELL = re.compile(r"# cell (\d+)")
SNIPPET = 60
MAX_MESSAGES = 20
"""Messages kept per function: a failed test shows the first three."""

Binding = str | ast.expr | None
"""What a name is bound to: a dotted path (an import), an expression (``name = value``), or anything else."""


def within(path: str, modules: tuple[str, ...]) -> bool:
    """Whether the dotted ``path`` is one of ``modules`` or inside one."""
    return any(path == m or path.startswith(m + ".") for m in modules)


def rooted(path: str | None) -> bool:
    """Whether ``path`` is torch (or functorch) or inside it."""
    return path is not None and path.split(".")[0] in ROOTS


def broken_rules(path: str, rules: Rules) -> list[str]:
    """The rules that the object at the dotted ``path`` (``torch.nn.GRU``) breaks; none outside torch, but for
    native code (``ctypes``), which can call into torch's own library past every rule."""
    parts = path.split(".")
    native = parts[0] in NATIVE or (parts[0] in ROOTS and NATIVE.intersection(parts))  # torch.ctypes re-exports it
    if native and in_force(rules):
        return [f"native code, which can reach torch past the rules ({active_rules(rules)})"]
    if not rooted(path):
        return []
    parts = path.split(".")
    broken = []
    python = within(path, PYTHON_RECURRENT) and RECURRENT_NAME.search(parts[-1])
    if rules.no_recurrent_modules and (RECURRENT.intersection(parts[1:]) or python):
        broken.append(RULE_NAMES["no_recurrent_modules"])
    if rules.no_recurrent_layers and (
        RECURRENT_LAYERS.intersection(parts[1:]) or (python and "cell" not in parts[-1].lower())
    ):
        broken.append(RULE_NAMES["no_recurrent_layers"])
    if (
        rules.no_autograd
        and parts[-1] not in GRAD_OFF
        and (AUTOGRAD.intersection(parts[1:]) or within(path, AUTOGRAD_MODULES))
    ):
        broken.append(RULE_NAMES["no_autograd"])
    return broken


def in_force(rules: Rules) -> bool:
    """Whether any rule is."""
    return any(getattr(rules, name) for name in RULE_NAMES)


def active_rules(rules: Rules) -> str:
    """The rules in force, as the student reads them."""
    return ", ".join(text for name, text in RULE_NAMES.items() if getattr(rules, name))


def snippet(node: ast.AST) -> str:
    """``node``'s code, shortened for a message."""
    text = ast.unparse(node)
    return text if len(text) <= SNIPPET else text[: SNIPPET - 3] + "..."


def constant_str(node: ast.expr | None) -> str | None:
    """The value of a constant string expression, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    """The argument of ``call`` at position ``index`` or named ``keyword``."""
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def never_runs(test: ast.expr) -> tuple[bool, bool]:
    """Whether the body, and the ``else``, of an ``if test:`` never run while the module is graded (it is imported
    under its own name, never as ``__main__``, and ``TYPE_CHECKING`` is false)."""
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
    if name == "TYPE_CHECKING":
        return True, False
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(never_runs(v)[0] for v in test.values), False
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq | ast.NotEq):
        sides = [test.left, test.comparators[0]]
        if any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
            constant_str(s) == "__main__" for s in sides
        ):
            return (True, False) if isinstance(test.ops[0], ast.Eq) else (False, True)
    return False, False


def binds_dunder_name(tree: ast.AST, source: str) -> bool:
    """Whether the module assigns ``__name__`` itself (then a main block may run on import). An ASCII ``source``
    without the name cannot (other sources may spell it with characters that Python reads as the same name)."""
    if source.isascii() and "__name__" not in source:
        return False
    return any(
        isinstance(n, ast.Name) and n.id == "__name__" and not isinstance(n.ctx, ast.Load) for n in ast.walk(tree)
    )


@dataclass
class Scope:
    """One scope's bindings: a module, a function (a lambda, a comprehension, exec'd code) or a class body."""

    kind: str
    bindings: dict[str, list[Binding]] = field(default_factory=lambda: defaultdict(list))
    declared: set[str] = field(default_factory=set)
    stars: list[str] = field(default_factory=list)
    lookups: dict[str, tuple[str | None, bool]] = field(default_factory=dict)


class Binder(ast.NodeVisitor):
    """Collects the names one scope binds, not entering the scopes nested in it."""

    def __init__(self, scope: Scope, skip_main: bool) -> None:
        self.scope = scope
        self.skip_main = skip_main

    def bind(self, name: str, value: Binding) -> None:
        self.scope.bindings[name].append(value)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.bind(node.name, None)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        pass  # a scope of its own

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            self.bind(alias.asname or top, alias.name if alias.asname else top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module if node.level == 0 else None
        for alias in node.names:
            if alias.name == "*":
                self.scope.stars += [module] if module else []
            else:
                self.bind(alias.asname or alias.name, f"{module}.{alias.name}" if module else None)

    def target(self, target: ast.expr, value: ast.expr | None) -> None:
        """Bind the names of an assignment's ``target`` to ``value`` (pairing a tuple with a tuple)."""
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(value, ast.Tuple | ast.List)
            and len(target.elts) == len(value.elts)
            and not any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts])
        ):
            for t, v in zip(target.elts, value.elts, strict=True):
                self.target(t, v)
        else:
            self.visit(target)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.target(target, node.value)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.target(node.target, node.value)
        if node.value:
            self.visit(node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.target(node.target, node.value)
        self.visit(node.value)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.bind(node.id, None)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bind(node.name, None)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs | ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name, None)
        self.generic_visit(node)

    visit_MatchStar = visit_MatchAs

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.bind(node.rest, None)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        self.scope.declared.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_If(self, node: ast.If) -> None:
        body, orelse = never_runs(node.test) if self.skip_main else (False, False)
        for statement in ([] if body else node.body) + ([] if orelse else node.orelse):
            self.visit(statement)


def scope_of(kind: str, body: Sequence[ast.AST], skip_main: bool, params: Sequence[str] = ()) -> Scope:
    """The scope of ``kind`` whose code is ``body`` and whose parameters are ``params``."""
    scope = Scope(kind)
    binder = Binder(scope, skip_main)
    for name in params:
        binder.bind(name, None)
    for node in body:
        binder.visit(node)
    for name in scope.declared:
        scope.bindings.pop(name, None)
    return scope


def parameters(args: ast.arguments) -> list[str]:
    """The names a function's parameters bind."""
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return [a.arg for a in every if a is not None]


def placer(source: str, tree: ast.Module, filename: str) -> Callable[[int], str]:
    """Where line ``n`` of ``source`` is in the student's own file: ``f.py line n``, or, for a module made from a
    notebook, ``f.ipynb cell c line k`` from the ``# cell c`` comment before the statement and the
    ``except Exception: pass`` lines that the notebook's guarded assignments added."""
    if not filename.endswith(".ipynb"):
        return lambda line: f"{filename} line {line}"
    lines = source.splitlines()
    starts: list[tuple[int, int | None, int]] = []  # (first line of a statement, its cell, lines to subtract)
    cell, offset, end = None, 0, 0
    for statement in tree.body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
        for number in range(end + 1, first):
            match = CELL.fullmatch(lines[number - 1]) if number <= len(lines) else None
            if match:
                cell, offset = int(match[1]), number
        starts.append((first, cell, offset))
        offset += guard_lines(statement)
        end = statement.end_lineno or statement.lineno

    def place(line: int) -> str:
        index = bisect.bisect_right(starts, line, key=lambda s: s[0]) - 1
        if index < 0 or starts[index][1] is None:
            return f"{filename} line {line}"
        return f"{filename} cell {starts[index][1]} line {line - starts[index][2]}"

    return place


def guard_lines(statement: ast.stmt) -> int:
    """The lines the notebook conversion added after ``statement`` (``except Exception: pass`` of a guarded
    assignment), which the student's cell does not have."""
    guarded = (
        isinstance(statement, ast.Try)
        and len(statement.body) == 1
        and statement.body[0].lineno == statement.lineno
        and len(statement.handlers) == 1
        and ast.unparse(statement.handlers[0]) == "except Exception:\n    pass"
        and not statement.orelse
        and not statement.finalbody
    )
    return 1 if guarded else 0


class Scanner(ast.NodeVisitor):
    """Walks a module, noting each forbidden use under the top-level function or class that holds it."""

    def __init__(self, rules: Rules, tree: ast.Module, source: str, place: Callable[[int], str]) -> None:
        self.rules = rules
        self.place = place
        self.skip_main = not binds_dunder_name(tree, source)
        self.scopes = [scope_of("module", tree.body, self.skip_main)]
        self.owner: str | None = None
        self.owners: set[str] = set()
        self.found: dict[str | None, list[tuple[int, int, str]]] = defaultdict(list)
        self.refs: dict[str, set[str]] = defaultdict(set)
        self.line: int | None = None  # the call's line while reading the code of an exec'd string
        self.resolving: set[int] = set()

    # where

    @contextmanager
    def inside(self, scope: Scope | None = None, owner: str | None = None) -> Iterator[None]:
        """Visit in ``scope`` (pushed) charging ``owner`` (when given)."""
        saved = self.owner
        self.owner = owner if owner is not None else self.owner
        if scope:
            self.scopes.append(scope)
        try:
            yield
        finally:
            if scope:
                self.scopes.pop()
            self.owner = saved

    def top(self, name: str) -> str | None:
        """The owner of a definition named ``name`` here: itself at module level, else whoever holds it."""
        if len(self.scopes) == 1 and self.owner is None:
            self.owners.add(name)
            return name
        return self.owner

    def report(self, node: ast.AST, text: str) -> None:
        line: int = self.line or getattr(node, "lineno", None) or 0
        column = 0 if self.line else getattr(node, "col_offset", 0)
        self.found[self.owner].append((line, column, text))

    # what names are

    def lookup(self, name: str, scopes: list[Scope]) -> tuple[str | None, bool]:
        """The dotted path ``name`` holds where ``scopes`` end, and whether a star import of torch gave it."""
        known = scopes[-1].lookups.get(name)
        if known is None:
            known = scopes[-1].lookups[name] = self.looked_up(name, scopes)
        return known

    def looked_up(self, name: str, scopes: list[Scope]) -> tuple[str | None, bool]:
        """:meth:`lookup`, worked out."""
        for i in range(len(scopes) - 1, -1, -1):
            scope = scopes[i]
            if (scope.kind == "class" and i != len(scopes) - 1) or name in scope.declared:
                continue
            if name in scope.bindings:
                paths = [self.value(b, scopes[: i + 1]) for b in scope.bindings[name]]
                return next((p for p in paths if rooted(p)), next((p for p in paths if p), None)), False
        stars = [s for s in scopes[0].stars if rooted(s)]
        if name in ROOTS:
            return name, False
        if hasattr(builtins, name):
            return f"builtins.{name}", False
        return (f"{stars[-1]}.{name}", True) if stars else (None, False)

    def value(self, binding: Binding, scopes: list[Scope]) -> str | None:
        """The dotted path of a binding, resolving ``name = value`` in the scope that holds it."""
        if not isinstance(binding, ast.expr):
            return binding
        if id(binding) in self.resolving:
            return None
        self.resolving.add(id(binding))
        try:
            return self.resolve(binding, scopes)
        finally:
            self.resolving.discard(id(binding))

    def resolve(self, node: ast.expr, scopes: list[Scope] | None = None) -> str | None:
        """The dotted path ``node`` names (``torch.nn.GRU`` for ``nn.GRU``, ``getattr(nn, "GRU")``,
        ``vars(nn)["GRU"]``), or None where the source does not tell."""
        scopes = scopes or self.scopes
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scopes)[0]
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value, scopes)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Subscript):
            base, key = self.resolve(node.value, scopes), constant_str(node.slice)
            if base == "sys.modules" and key is not None:
                return key
            return f"{base.removesuffix(NAMESPACE)}.{key}" if base and base.endswith(NAMESPACE) and key else None
        if isinstance(node, ast.Call):
            function = self.resolve(node.func, scopes)
            if function == "builtins.vars" and len(node.args) == 1:
                base = self.resolve(node.args[0], scopes)
                return base + NAMESPACE if base else None
            if function in GETTERS and len(node.args) >= 2:
                base, name = self.resolve(node.args[0], scopes), constant_str(node.args[1])
                return f"{base}.{name}" if base and name else None
            if function and function.endswith(DUNDER_GETTERS) and len(node.args) == 1:
                name = constant_str(node.args[0])
                return f"{function.rsplit('.', 1)[0]}.{name}" if name else None
            if function in IMPORTERS:
                return self.imported(node, function)
        return None

    def imported(self, call: ast.Call, function: str) -> str | None:
        """The module an ``__import__``/``import_module`` call returns, when its arguments are constants."""
        name = constant_str(argument(call, 0, "name"))
        if name is None:
            return None
        if name.startswith("."):
            package = constant_str(argument(call, 1, "package"))
            relative = package and function == "importlib.import_module" and name[1:2] != "."
            return f"{package}{name}" if relative else None
        fromlist = argument(call, 3, "fromlist")
        whole = function == "importlib.import_module" or (
            fromlist is not None and not (isinstance(fromlist, ast.Constant) and not fromlist.value)
        )
        return name if whole else name.split(".")[0]

    def namespace(self, path: str | None) -> bool:
        """Whether ``path`` is, or is in, a mapping of names to torch's objects (``vars(torch)``, ``sys.modules``)."""
        if path is None:
            return False
        return within(path, ("sys.modules",)) or (rooted(path) and "__dict__" in path.split("."))

    # what is checked

    def breach(self, node: ast.expr, path: str) -> None:
        """Report ``node``, which names ``path``, if that breaks a rule."""
        broken = broken_rules(path, self.rules)
        if broken:
            written = snippet(node)
            self.report(node, f"{written} ({'' if written == path else path + ': '}{', '.join(broken)})")

    def computed(self, node: ast.AST, what: str = "is a computed name") -> None:
        self.report(node, f"{snippet(node)} {what} the grader cannot check ({active_rules(self.rules)})")

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            path, star = self.lookup(node.id, self.scopes)
            if star and path:
                self.breach(node, path)
            if self.owner is not None and node.id != self.owner:
                self.refs[self.owner].add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = self.resolve(node)
        if path is None and node.attr in NATIVE and in_force(self.rules):
            self.breach(node, f"torch.{node.attr}")  # any object's ctypes (torch re-exports it): native code
        elif path is None:
            self.generic_visit(node)
        elif self.namespace(path):
            self.computed(node, LOOKUP)
        else:
            self.breach(node, path)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not self.namespace(self.resolve(node.value)):
            self.generic_visit(node)
        elif constant_str(node.slice) is None:
            self.computed(node)
            self.visit(node.slice)
        else:
            self.breach(node, self.resolve(node) or "")

    def visit_Call(self, node: ast.Call) -> None:
        function = self.resolve(node.func)
        path = self.resolve(node)
        if path is not None and not self.namespace(path):
            if broken_rules(path, self.rules):
                self.breach(node, path)
            elif function in IMPORTERS:
                self.imports(node)
            return
        if self.namespace(path):
            self.computed(node, LOOKUP)
        elif self.computed_getter(node, function):
            self.computed(node)
        elif function in IMPORTERS:
            self.imports(node)
        elif function in CODE_RUNNERS:
            self.code(node)
        if self.rules.no_autograd and rooted(function):
            for keyword in node.keywords:
                if keyword.arg == "requires_grad" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    text = f"requires_grad= in {snippet(node.func)}(...) ({RULE_NAMES['no_autograd']})"
                    self.report(keyword.value, text)
        if function and function.endswith(".set_grad_enabled") and rooted(function):
            mode = argument(node, 0, "mode")
            if isinstance(mode, ast.Constant) and mode.value is False:
                return  # turning autograd off is allowed
        self.generic_visit(node)

    def computed_getter(self, call: ast.Call, function: str | None) -> bool:
        """Whether ``call`` gets an attribute of torch by a name that is not a constant (those that are resolve)."""
        if function in GETTERS and len(call.args) >= 2:
            return rooted(self.resolve(call.args[0]))
        return bool(function and function.endswith(DUNDER_GETTERS) and rooted(function))

    def imports(self, call: ast.Call) -> None:
        """Check an ``__import__``/``import_module`` call: a computed name, or a forbidden constant one."""
        name = constant_str(argument(call, 0, "name"))
        if name is None or (name.startswith(".") and self.resolve(call) is None):
            self.computed(call)
            return
        broken = broken_rules(name, self.rules)
        if broken:
            self.report(call, f"{snippet(call)} (import of {name}: {', '.join(broken)})")

    def code(self, call: ast.Call) -> None:
        """Check ``eval``/``exec``/``compile``: a constant string is read as code in a scope of its own, anything
        else is code built at run time."""
        text = constant_str(argument(call, 0, "source"))
        try:
            tree = parse(text) if text is not None else None
        except SyntaxError:
            return  # it fails when it runs
        if tree is None:
            self.computed(call, "runs code built at run time: computed names")
            return
        saved, self.line = self.line, self.line or call.lineno
        with self.inside(scope_of("function", tree.body, self.skip_main)):
            for statement in tree.body:
                self.visit(statement)
        self.line = saved

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        base = node.module if isinstance(node, ast.ImportFrom) and node.level == 0 else None
        if isinstance(node, ast.ImportFrom) and base is None:
            return  # a relative import: the submission's own modules
        for alias in node.names:
            full = alias.name if base is None else base if alias.name == "*" else f"{base}.{alias.name}"
            broken = broken_rules(full, self.rules)
            if broken:
                self.report(node, f"import of {full} ({', '.join(broken)})")

    visit_ImportFrom = visit_Import

    def visit_If(self, node: ast.If) -> None:
        body, orelse = never_runs(node.test) if self.skip_main else (False, False)
        self.visit(node.test)
        for statement in ([] if body else node.body) + ([] if orelse else node.orelse):
            self.visit(statement)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        with self.inside(owner=self.top(node.name)):
            for expr in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
                if expr is not None:
                    self.visit(expr)
            scope = scope_of("function", node.body, self.skip_main, parameters(node.args))
            with self.inside(scope):
                for statement in node.body:
                    self.visit(statement)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        with self.inside(owner=self.top(node.name)):
            for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
                self.visit(expr)
            with self.inside(scope_of("class", node.body, self.skip_main)):
                for statement in node.body:
                    self.visit(statement)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for expr in [*node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        with self.inside(scope_of("function", [node.body], self.skip_main, parameters(node.args))):
            self.visit(node.body)

    def visit_comprehension_scope(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        scope = scope_of("function", [g.target for g in node.generators], self.skip_main)
        with self.inside(scope):
            self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_comprehension_scope

    def visit_Assign(self, node: ast.Assign) -> None:
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if isinstance(node.value, ast.Lambda) and names and len(self.scopes) == 1 and self.owner is None:
            with self.inside(owner=self.top(names[0])):  # f = lambda ...: a function named f
                self.visit(node.value)
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)  # the annotation only names a type
        if node.value:
            self.visit(node.value)

    # the result

    def messages(self, owner: str | None, hint: str) -> list[str]:
        """The messages of the uses in ``owner`` itself, by line (the first :data:`MAX_MESSAGES`)."""
        suffix = f", at module level: it runs on import, so it counts against every function{hint}"
        suffix = suffix if owner is None else ""
        uses = list(dict.fromkeys(sorted(self.found[owner])))[:MAX_MESSAGES]
        return [f"{self.place(line)}: {text}{suffix}" for line, _, text in uses]

    def violations(self, hint: str) -> dict[str | None, list[str]]:
        """The uses charged to each owner: its own, then those of every owner it names, in turn."""
        graph = {owner: sorted(self.refs[owner] & self.owners) for owner in sorted(self.owners)}
        own = {owner: self.messages(owner, hint) for owner in graph}
        result: dict[str | None, list[str]] = {None: self.messages(None, hint)[:MAX_MESSAGES]}
        result.update(charged(graph, own))
        return {owner: found for owner, found in result.items() if found}


def components(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph``, each after every component it reaches (Kosaraju's
    algorithm, without recursion: a submission may define thousands of functions)."""
    order, seen = [], set()
    for start in graph:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(graph[start]))]
        while stack:
            node, successors = stack[-1]
            step = next((s for s in successors if s not in seen), None)
            if step is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(step)
                stack.append((step, iter(graph[step])))
    callers: dict[str, list[str]] = defaultdict(list)
    for node in graph:
        for successor in graph[node]:
            callers[successor].append(node)
    found, assigned = [], set()
    for start in reversed(order):
        if start in assigned:
            continue
        assigned.add(start)
        component, pending = [], [start]
        while pending:
            node = pending.pop()
            component.append(node)
            fresh = [c for c in callers[node] if c not in assigned]
            assigned.update(fresh)
            pending += fresh
        found.append(component)
    return found[::-1]


def charged(graph: dict[str, list[str]], own: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each node's ``own`` messages followed by those of every node it reaches, at most :data:`MAX_MESSAGES`."""
    result: dict[str, list[str]] = {}
    for component in components(graph):
        members = set(component)
        shared = [m for node in sorted(component) for m in own[node]]
        reached = [m for node in component for s in graph[node] if s not in members for m in result[s]]
        for node in component:
            result[node] = list(dict.fromkeys([*own[node], *shared, *reached]))[:MAX_MESSAGES]
    return result


def static_violations(
    source: str, rules: Rules, filename: str, tree: ast.Module | None = None
) -> dict[str | None, list[str]]:
    """Forbidden uses by top-level function or class (None: module level, charged to every function), each also
    charged to every function that names it. ``filename`` is the student's file (``f.py`` or ``f.ipynb``);
    ``tree``: its source parsed already."""
    if not in_force(rules):
        return {}
    try:
        tree = tree or parse(source, filename)
    except SyntaxError:
        return {}
    notebook = filename.endswith(".ipynb")
    hint = " (move it into a function)" if notebook else ' (a self-check belongs under if __name__ == "__main__":)'
    try:
        scanner = Scanner(rules, tree, source, placer(source, tree, filename))
        for statement in tree.body:
            scanner.visit(statement)
        return scanner.violations(hint)
    except RecursionError:  # nesting the parser takes but a reading cannot follow: no honest code is that deep
        return {None: [f"{filename}: the code is nested too deeply for the grader to check ({active_rules(rules)})"]}


HOSTED_RULES = {"no_recurrent_modules", "no_recurrent_layers"}
"""The rules a module may be graded under without having them: all they do to code is refuse, and the worker records
every refusal. Not ``no_autograd``: with gradients off torch behaves otherwise without a word (an in-place copy into
a parameter, ``.numpy()`` of a result that requires grad: errors with gradients on, none off)."""


def names_in(tree: ast.Module) -> set[str]:
    """Every name the module's code uses or binds: variables, attributes, imports and keyword arguments."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.update(node.name.split("."))
            if node.asname:
                found.add(node.asname)
        elif isinstance(node, ast.keyword) and node.arg:
            found.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
    return found


def extra_rules(host: dict[str, bool], own: dict[str, bool]) -> set[str] | None:
    """The rules of ``host`` that ``own`` lacks (``no_recurrent_modules`` over ``no_recurrent_layers``: the cells),
    or None when ``host`` lacks one of ``own``'s (it cannot grade a module of those rules)."""
    on = {name for name, value in host.items() if value}
    mine = {name for name, value in own.items() if value}
    if "no_recurrent_layers" in mine and "no_recurrent_modules" in on:
        mine = mine - {"no_recurrent_layers"}  # within what no_recurrent_modules refuses
    return on - mine if mine <= on else None


def hostable(tree: ast.Module, source: str, filename: str, host: dict[str, bool]) -> bool:
    """Whether a module can be graded under ``host``, whose rules beyond its own are of :data:`HOSTED_RULES`: it
    names nothing recurrent (no name with ``rnn``, ``gru`` or ``lstm`` in it), and the static check finds nothing in
    it under ``host`` (so it breaks none of its own rules either: a stricter rule set only adds breaches)."""
    if any(RECURRENT_NAME.search(name) for name in names_in(tree)):
        return False
    return not static_violations(source, Rules(**host), filename, tree)


def host_rules(modules: dict[str, tuple[str, str]], rules: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    """For the modules (``name: (source, filename)``) that can be graded under stricter rules than their own, those
    of another module of the submission, so that fewer workers start (one per rule set graded under): each goes to
    the strictest rule set that keeps a worker anyway under which it is :func:`hostable`. A module under stricter
    rules than its own only has less to use (it cannot gain by them), and the grader grades it again under its own
    should it meet one of their refusals all the same (:class:`grader.sandbox.session.SubmissionSession`)."""

    def strictness(rule_set: dict[str, bool]) -> int:
        """Higher for a rule set that could host another (no_recurrent_modules refuses more than its layers' rule)."""
        return sum((2 if rule == "no_recurrent_modules" else 1) for rule, on in rule_set.items() if on)

    kept: list[dict[str, bool]] = []
    hosts: dict[str, dict[str, bool]] = {}
    for name in sorted(modules, key=lambda name: strictness(rules.get(name, {})), reverse=True):
        own = rules.get(name, {})
        source, filename = modules[name]
        candidates = []
        if own not in kept:  # once a module of these rules keeps a worker of them, the others stay with it
            candidates = [host for host in kept if (extra := extra_rules(host, own)) and extra <= HOSTED_RULES]
        try:
            tree = parse(source, filename) if candidates else None
        except SyntaxError:
            tree = None
        for host in sorted(candidates, key=strictness, reverse=True):
            if tree is not None and hostable(tree, source, filename, host):
                hosts[name] = host
                break
        else:
            if own not in kept:
                kept.append(own)
    return hosts
