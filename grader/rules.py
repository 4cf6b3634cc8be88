"""The contract's rules checked statically on a submission's source, before any of it runs.

The worker enforces the same rules at run time (:class:`grader.worker.Guards`), which catches what
no reading of the source can, such as ``getattr(torch.nn, "GRU" + "Cell")``.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from grader.intake import parse
from grader.spec import Rules

RECURRENT = {
    "RNNBase",
    "RNN",
    "RNNCellBase",
    "RNNCell",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "_VF",
    "rnn_tanh",
    "rnn_relu",
    "rnn_tanh_cell",
    "rnn_relu_cell",
    "gru",
    "gru_cell",
    "lstm",
    "lstm_cell",
}
AUTOGRAD = {"autograd", "backward", "requires_grad", "requires_grad_", "enable_grad", "set_grad_enabled"}
AUTOGRAD_MODULES = ("torch.autograd", "torch.func", "functorch")


def forbidden_uses(node: ast.AST, rules: Rules) -> list[str]:
    """What ``node`` itself does that the rules forbid."""
    found = []
    if isinstance(node, ast.Attribute):
        if rules.no_recurrent_modules and node.attr in RECURRENT:
            found.append(f".{node.attr} (no torch recurrent modules or their ops)")
        if rules.no_autograd and (
            node.attr in AUTOGRAD
            or (node.attr == "func" and isinstance(node.value, ast.Name) and node.value.id == "torch")
        ):
            found.append(f".{node.attr} (no autograd)")
    elif isinstance(node, ast.ImportFrom | ast.Import):
        base = node.module or "" if isinstance(node, ast.ImportFrom) else ""
        for alias in node.names:
            full = f"{base}.{alias.name}" if base else alias.name
            if rules.no_recurrent_modules and base.startswith("torch") and alias.name in RECURRENT:
                found.append(f"import of {full} (no torch recurrent modules or their ops)")
            if rules.no_autograd and (
                full.startswith(AUTOGRAD_MODULES) or (alias.name in ("autograd", "func") and base == "torch")
            ):
                found.append(f"import of {full} (no autograd)")
    elif isinstance(node, ast.keyword) and rules.no_autograd and node.arg == "requires_grad":
        if not (isinstance(node.value, ast.Constant) and node.value.value is False):
            found.append("requires_grad= (no autograd)")
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
        and rules.no_recurrent_modules
        and node.args[1].value in RECURRENT - {"gru_cell", "lstm_cell"}
    ):
        found.append(f"getattr(..., {node.args[1].value!r}) (no torch recurrent modules or their ops)")
    return found


def static_violations(source: str, rules: Rules, filename: str) -> dict[str | None, list[str]]:
    """Forbidden uses by top-level function (None: module level), each charged to every function that calls it."""
    if not (rules.no_autograd or rules.no_recurrent_modules):
        return {}
    try:
        tree = parse(source, filename)
    except SyntaxError:
        return {}
    direct: dict[str | None, list[str]] = defaultdict(list)
    calls: dict[str, set[str]] = defaultdict(set)
    top_level = {s.name for s in tree.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    for statement in tree.body:
        owner = statement.name if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else None
        for node in ast.walk(statement):
            direct[owner] += [
                f"{filename} line {node.lineno}: {use}"
                for use in forbidden_uses(node, rules)
                if hasattr(node, "lineno")
            ]
            if owner and isinstance(node, ast.Name) and node.id in top_level and node.id != owner:
                calls[owner].add(node.id)
    result: dict[str | None, list[str]] = {}
    for name in [None, *top_level]:
        seen, stack, found = set(), [name], []
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            found += direct.get(current, [])
            stack += list(calls.get(current, set())) if current else []
        if found:
            result[name] = found
    return result
