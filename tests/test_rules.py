"""The contract's rules read from a submission's source (:mod:`grader.rules`): honest code is no breach, what the
source pins to torch is, a name computed on torch is, and each message names the student's own line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from pydantic import ValidationError

from grader.engine import grade_submission
from grader.notebook import notebook_source
from grader.rules import RULE_NAMES, static_violations
from grader.spec import Course, Rules

BOTH = Rules(no_recurrent_modules=True, no_autograd=True)
RECURRENT = Rules(no_recurrent_modules=True)
AUTOGRAD = Rules(no_autograd=True)
LAYERS = Rules(no_recurrent_layers=True)


def check(source: str, rules: Rules = BOTH, filename: str = "m.py") -> dict[str | None, list[str]]:
    return static_violations(textwrap.dedent(source), rules, filename)


def test_no_rules_no_check():
    assert check("import torch\ndef f(x):\n    return torch.nn.GRU(3, 4)\n", Rules()) == {}


def test_a_syntax_error_is_left_to_the_import():
    assert check("import torch\ndef f(:\n    torch.nn.GRU\n") == {}


# honest work


HONEST = {
    "a self-check under the main guard": """
        import torch

        def rnn_cell(x, h):
            return torch.tanh(x + h)

        if __name__ == "__main__":
            import torch.nn as nn
            from torch.nn import RNN
            reference = torch.nn.RNN(3, 4)
            assert nn.GRUCell(3, 4) is not None and RNN
            torch.zeros(3, requires_grad=True).sum().backward()
        """,
    "the main guard written the other way round": """
        import torch

        def f(x):
            return x

        if '__main__' == __name__:
            torch.nn.LSTM(3, 4)
        """,
    "a class of one's own with backward and gru_cell methods": """
        import torch

        class Cells:
            def gru_cell(self, x):
                return x

            def backward(self):
                return self.gru_cell(1)

        def gru_cell(x, h):
            cells = Cells()
            cells.backward()
            obj = cells
            return obj.gru_cell(x) + h

        def f(model):
            return model.rnn, model.lstm_cell, model.autograd
        """,
    "tensor methods, which only the run-time guards can tell": """
        import torch

        def f(x):
            x.requires_grad_(False)
            return x.detach(), x.requires_grad
        """,
    "functional ops and autograd turned off": """
        import torch
        import torch.nn.functional as F
        from torch.nn import functional as G, Linear

        def f(x):
            with torch.no_grad(), torch.autograd.no_grad():
                torch.set_grad_enabled(False)
                return F.relu(x) + G.tanh(x), Linear(3, 4), torch.zeros(3, requires_grad=False)
        """,
    "constant names on torch": """
        import torch

        def f(x):
            return getattr(torch, "float64"), getattr(torch.nn, "Linear"), vars(torch)["tanh"]
        """,
    "a getattr on the student's own objects": """
        import torch

        def f(obj, name):
            return getattr(obj, name), getattr(obj, "gru_cell")
        """,
    "an import of torch.functional, not torch.func": """
        import torch.functional
        from torch.functional import einsum

        def f(x):
            return einsum("i->i", x)
        """,
    "a parameter that shadows a module name": """
        import torch.nn as nn

        def f(nn, torch):
            return nn.GRU, torch.autograd
        """,
    "a type named in an annotation only": """
        from __future__ import annotations
        import torch

        def f(cell: torch.nn.GRUCell) -> torch.Tensor:
            return torch.zeros(3)
        """,
}


@pytest.mark.parametrize("case", sorted(HONEST))
@pytest.mark.parametrize("rules", [BOTH, Rules(no_recurrent_layers=True, no_autograd=True)], ids=["modules", "layers"])
def test_honest_work_breaks_no_rule(case: str, rules: Rules):
    assert check(HONEST[case], rules) == {}


@pytest.mark.parametrize("spelled", ["__name__", "__\uff4e\uff41\uff4d\uff45__"], ids=["ascii", "fullwidth"])
def test_a_module_that_sets_its_own_name_does_not_get_the_main_block_skipped(spelled: str):
    found = check(f"""
        import torch
        {spelled} = "__main__"

        def f(x):
            return x

        if __name__ == "__main__":
            torch.nn.GRU(3, 4)
        """)
    assert list(found) == [None]


# where a use is charged


def test_a_use_in_a_function_is_charged_to_it_and_its_callers_only():
    found = check("""
        import torch

        def reference(x):
            return torch.nn.RNN(3, 4)(x)

        def rnn_forward(x):
            return reference(x)

        def rnn_cell(x):
            return x
        """)
    assert set(found) == {"reference", "rnn_forward"}
    assert (
        found["rnn_forward"]
        == found["reference"]
        == ["m.py line 5: torch.nn.RNN (no torch recurrent modules or their ops)"]
    )


def test_a_use_in_a_class_body_is_charged_to_the_class_and_its_users():
    found = check("""
        import torch

        class Model:
            cell = torch.nn.GRUCell(3, 4)

        def f(x):
            return Model().cell(x)

        def g(x):
            return x
        """)
    assert set(found) == {"Model", "f"}


def test_a_function_defined_inside_a_module_level_block_is_charged_to_itself():
    found = check("""
        import torch

        try:
            import numpy
        except ImportError:
            numpy = None
        else:
            def f(x):
                return torch.nn.GRU(3, 4)

        g = lambda x: torch.nn.LSTM(3, 4)

        def h(x):
            return x
        """)
    assert set(found) == {"f", "g"}


def test_a_module_level_statement_that_runs_on_import_is_charged_to_every_function():
    found = check("""
        import torch

        reference = torch.nn.RNN(3, 4)

        def rnn_cell(x):
            return x
        """)
    assert list(found) == [None]
    [message] = found[None]
    assert message.startswith("m.py line 4: torch.nn.RNN (no torch recurrent modules or their ops), at module level")
    assert "counts against every function" in message


def test_a_forbidden_import_is_a_breach_at_the_import():
    found = check("""
        from torch.nn import GRU

        def f(x):
            return GRU(3, 4)

        def g(x):
            from torch.autograd import grad
            return grad
        """)
    assert found[None] == [
        "m.py line 2: import of torch.nn.GRU (no torch recurrent modules or their ops), at module level: it runs on "
        'import, so it counts against every function (a self-check belongs under if __name__ == "__main__":)'
    ]
    assert found["g"] == ["m.py line 8: import of torch.autograd.grad (no autograd)"]
    assert "f" not in found  # the import, not each use, is the breach


@pytest.mark.parametrize(
    "source",
    ["import torch.func", "from torch import func", "import functorch", "from torch.autograd import *"],
)
def test_imports_of_autograd_modules(source: str):
    assert check(f"def f():\n    {source}\n", AUTOGRAD) and not check(f"def f():\n    {source}\n", RECURRENT)


def test_a_use_is_charged_through_calls_and_cycles_of_calls():
    found = check("""
        import torch

        def a(): return b()
        def b(): return c()
        def c(): return b() + torch.nn.GRU
        def d(): return a
        def e(): return 1

        class K:
            def m(self): return c
        """)
    assert sorted(found) == ["K", "a", "b", "c", "d"]
    assert all(m == ["m.py line 6: torch.nn.GRU (no torch recurrent modules or their ops)"] for m in found.values())


def test_thousands_of_functions_are_charged_in_linear_time():
    source = "import torch\ndef f0():\n    return torch.nn.GRU\n" + "".join(
        f"def f{i}():\n    return f{i - 1}() + torch.nn.LSTM\n" for i in range(1, 5000)
    )
    found = static_violations(source, RECURRENT, "m.py")
    assert len(found) == 5000 and len(found["f4999"]) == 20  # capped: a failed test shows the first three
    assert found["f4999"][0] == "m.py line 10001: torch.nn.LSTM (no torch recurrent modules or their ops)"


def test_code_nested_deeper_than_a_reading_can_follow_is_a_breach():
    found = check("def f(x):\n    return " + " + ".join(["x"] * 2000) + "\n")
    assert found == {
        None: [
            "m.py: the code is nested too deeply for the grader to check "
            "(no torch recurrent modules or their ops, no autograd)"
        ]
    }


# uses pinned to torch


@pytest.mark.parametrize(
    ("imports", "use", "path"),
    [
        ("import torch", "torch.nn.GRU", "torch.nn.GRU"),
        ("import torch.nn as tnn", "tnn.GRU", "torch.nn.GRU"),
        ("import torch.nn as nn", "nn.LSTMCell", "torch.nn.LSTMCell"),
        ("import torch as t", "t._VF.gru_cell", "torch._VF.gru_cell"),
        ("from torch import nn", "nn.modules.rnn.RNNBase", "torch.nn.modules.rnn.RNNBase"),
        ("import torch.nn", "torch.lstm_cell", "torch.lstm_cell"),
        ("import torch\nnn = torch.nn", "nn.RNNCell", "torch.nn.RNNCell"),
        ("import torch", "getattr(torch.nn, 'GRU')", "torch.nn.GRU"),
        ("import torch", "vars(torch.nn)['LSTM']", "torch.nn.LSTM"),
        ("import torch", "torch.nn.__dict__['GRUCell']", "torch.nn.GRUCell"),
        ("import sys", "sys.modules['torch.nn'].GRU", "torch.nn.GRU"),
        ("import importlib", "importlib.import_module('torch.nn').GRU", "torch.nn.GRU"),
        ("", "__import__('torch').nn.GRU", "torch.nn.GRU"),
        ("from torch.nn import *", "GRU", "torch.nn.GRU"),
        ("from torch import *", "nn.LSTM", "torch.nn.LSTM"),
    ],
)
def test_a_recurrent_module_reached_through_the_modules_bindings(imports: str, use: str, path: str):
    found = check(f"{imports}\n\ndef f(x):\n    return {use}(3, 4)\n", RECURRENT)
    assert list(found) == ["f"]
    [message] = found["f"]
    assert f"line {imports.count(chr(10)) + 4}: " in message
    assert path in message and "no torch recurrent modules or their ops" in message


@pytest.mark.parametrize(
    ("imports", "use"),
    [
        ("import torch", "torch.autograd.grad(y, x)"),
        ("import torch", "torch.func.grad(f)"),
        ("from torch import autograd as ag", "ag.functional.jacobian(f, x)"),
        ("import torch", "torch.enable_grad()"),
        ("import torch", "torch.set_grad_enabled(True)"),
        ("import torch as t", "t.Tensor.backward(x)"),
        ("import torch", "torch.zeros(3, requires_grad=True)"),
        ("import torch.nn as nn", "nn.Parameter(x, requires_grad=flag)"),
        ("import functorch", "functorch.grad(f)"),
    ],
)
def test_autograd_reached_through_the_modules_bindings(imports: str, use: str):
    found = check(f"{imports}\n\ndef f(x, y, flag):\n    return {use}\n", AUTOGRAD)
    [message] = found["f"]
    assert message.startswith("m.py line 4: ") and message.endswith("no autograd)")
    assert not check(f"{imports}\n\ndef f(x, y, flag):\n    return {use}\n", RECURRENT)


@pytest.mark.parametrize(
    ("imports", "use", "path"),
    [
        ("import torch", "torch.nn.RNN", "torch.nn.RNN"),
        ("import torch.nn as nn", "nn.GRU", "torch.nn.GRU"),
        ("from torch.nn import *", "LSTM", "torch.nn.LSTM"),
        ("from torch import nn", "nn.modules.rnn.RNNBase", "torch.nn.modules.rnn.RNNBase"),
        ("import torch", "getattr(torch.nn, 'LSTM')", "torch.nn.LSTM"),
        ("import torch", "vars(torch.nn)['GRU']", "torch.nn.GRU"),
        ("import sys", "sys.modules['torch.nn'].LSTM", "torch.nn.LSTM"),
        ("", "__import__('torch').nn.RNN", "torch.nn.RNN"),
        ("import torch as t", "t._VF.lstm", "torch._VF.lstm"),
        ("from torch import _VF", "_VF.gru", "torch._VF.gru"),
        ("import torch", "torch.rnn_tanh", "torch.rnn_tanh"),
        ("import torch", "torch.ops.aten.lstm", "torch.ops.aten.lstm"),
        ("import torch", "torch._C._VariableFunctions.gru", "torch._C._VariableFunctions.gru"),
        ("import torch._decomp.decompositions as d", "d.lstm_impl", "torch._decomp.decompositions.lstm_impl"),
        ("from torch.ao.nn.quantizable import LSTM", "LSTM", "torch.ao.nn.quantizable.LSTM"),
    ],
)
def test_a_recurrent_layer_breaks_no_recurrent_layers(imports: str, use: str, path: str):
    found = check(f"{imports}\n\ndef f(x):\n    return {use}(3, 4)\n", LAYERS)
    [message] = [m for messages in found.values() for m in messages]
    assert path in message and "(cells are allowed)" in message


CELLS = """
    import torch
    import torch.nn as nn
    from torch import _VF
    from torch.nn import GRUCell, LSTMCell
    from torch.nn.utils.rnn import pad_sequence
    import torch._decomp.decompositions as decompositions

    def f(x, h, w_ih, w_hh):
        cells = nn.RNNCell(3, 4), GRUCell(3, 4), LSTMCell(3, 4), getattr(torch.nn, "GRUCell"), torch.nn.RNNCellBase
        ops = _VF.rnn_tanh_cell, torch.rnn_relu_cell, torch.ops.aten.lstm_cell, torch._VF.gru_cell
        return cells, ops, decompositions.gru_cell, torch.ao.nn.quantizable.LSTMCell, pad_sequence
    """


def test_cells_break_no_recurrent_layers_but_each_breaks_no_recurrent_modules():
    assert check(CELLS, LAYERS) == {}
    found = check(CELLS, RECURRENT)
    assert len(found[None]) == 3 and len(found["f"]) == 9  # the three imports, then every other name in f


OWN_LSTM = """
    import torch

    class LSTMClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.Linear(3, 4)

        def lstm(self, x):
            return self.rnn(x)

        def forward(self, x):
            gru = self.lstm
            return gru(x)

    class LSTM:
        def rnn_tanh(self, x):
            return torch.tanh(x)

    def f(x):
        rnn, lstm = LSTMClassifier(), LSTM()
        return rnn.lstm(x), rnn(x), lstm.rnn_tanh(x)
    """


@pytest.mark.parametrize("rules", [LAYERS, RECURRENT], ids=["layers", "modules"])
def test_a_class_of_ones_own_named_lstm_breaks_no_recurrent_rule(rules: Rules):
    assert check(OWN_LSTM, rules) == {}


def test_no_recurrent_layers_and_no_recurrent_modules_are_not_set_together():
    with pytest.raises(ValidationError, match="set one of the two"):
        Rules(no_recurrent_modules=True, no_recurrent_layers=True)


def test_a_local_import_and_alias_are_followed_in_their_own_scope():
    found = check("""
        import torch.nn as nn

        def f(x):
            import torch.nn as layers
            return layers.GRUCell(3, 4)

        def g(layers):
            return layers.GRUCell(3, 4)

        def h(x):
            cell = (lambda m: m.GRUCell)(x)
            return [nn.LSTM for nn in x]
        """)
    assert list(found) == ["f"]


def test_code_in_a_constant_string_is_read_as_code():
    found = check("""
        import torch

        def f(x):
            return eval("torch.nn.GRU(3, 4)")

        def g(x):
            exec("import torch.nn as q\\nq.LSTM(3, 4)")

        def h(x):
            return eval("x + 1")
        """)
    assert found["f"] == ["m.py line 5: torch.nn.GRU (no torch recurrent modules or their ops)"]
    assert found["g"] == ["m.py line 8: q.LSTM (torch.nn.LSTM: no torch recurrent modules or their ops)"]
    assert "h" not in found


# names computed at run time


COMPUTED = {
    "getattr(torch, 'auto' + 'grad')": "import torch",
    "getattr(torch.nn, 'GR' + 'U')": "import torch",
    "getattr(nn, name)": "from torch import nn",
    "getattr(torch, name, None)": "import torch",
    "torch.nn.__getattribute__(name)": "import torch",
    "__import__(name)": "",
    "__import__('torch.' + name)": "",
    "importlib.import_module('torch.' + name)": "import importlib",
    "import_module(name)": "from importlib import import_module",
    "importlib.__import__(name)": "import importlib",
    "vars(torch)[name]": "import torch",
    "torch.__dict__[name]": "import torch",
    "torch.nn.__dict__.get(name)": "import torch",
    "sys.modules[name]": "import sys",
    "eval(name)": "",
    "exec(compile(name, 'x', 'exec'))": "",
}


@pytest.mark.parametrize("use", sorted(COMPUTED))
@pytest.mark.parametrize("rules", [RECURRENT, LAYERS, AUTOGRAD], ids=["recurrent", "layers", "autograd"])
def test_a_computed_name_on_torch_is_a_breach(use: str, rules: Rules):
    found = check(f"{COMPUTED[use]}\n\ndef f(name):\n    return {use}\n", rules)
    assert list(found) == ["f"]
    [rule] = [text for name, text in RULE_NAMES.items() if getattr(rules, name)]
    assert any("the grader cannot check" in m and f"({rule})" in m for m in found["f"]), found


def test_a_computed_name_message_names_every_rule_in_force():
    [message] = check("import torch\n\ndef f():\n    return getattr(torch, 'auto' + 'grad')\n")["f"]
    assert message == (
        "m.py line 4: getattr(torch, 'auto' + 'grad') is a computed name the grader cannot check "
        "(no torch recurrent modules or their ops, no autograd)"
    )


@pytest.mark.parametrize(
    ("use", "module"),
    [
        ("__import__('torch.autograd')", "torch.autograd"),
        ("__import__('functorch')", "functorch"),
        ("importlib.import_module('torch.func')", "torch.func"),
        ("importlib.import_module('.autograd', 'torch')", "torch.autograd"),
    ],
)
def test_an_import_by_a_constant_forbidden_name_is_a_breach(use: str, module: str):
    [message] = check(f"import importlib\n\ndef f():\n    return {use}\n", AUTOGRAD)["f"]
    assert f"{module}: no autograd)" in message


def test_getattr_of_a_constant_forbidden_name():
    found = check("import torch\n\ndef f():\n    return getattr(torch, 'gru_cell'), getattr(torch._C, 'autograd')\n")
    assert found["f"] == [
        "m.py line 4: getattr(torch, 'gru_cell') (torch.gru_cell: no torch recurrent modules or their ops)",
        "m.py line 4: getattr(torch._C, 'autograd') (torch._C.autograd: no autograd)",
    ]


# the student's own line


def notebook(*cells: str) -> str:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# my RNN")] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(book)


def test_a_notebook_message_names_the_cell_and_the_line_in_it():
    source, _ = notebook_source(
        "rnn_forward.ipynb",
        notebook(
            "import torch\nreference = torch.nn.RNN(3, 4)\nprint(reference)",
            "x = 1\ny = (2,\n     3)\ndef rnn_cell(x, h):\n    # by hand\n    return torch.nn.RNNCell(3, 4)(x, h)",
            "@staticmethod\ndef rnn_forward(x):\n    return torch.nn.RNN(3, 4)\n\nif __name__ == '__main__':\n    pass",
        ),
    )
    found = static_violations(source, RECURRENT, "rnn_forward.ipynb")
    assert found[None] == [
        "rnn_forward.ipynb cell 2 line 2: torch.nn.RNN (no torch recurrent modules or their ops), at module level: "
        "it runs on import, so it counts against every function (move it into a function)"
    ]
    assert found["rnn_cell"] == [
        "rnn_forward.ipynb cell 3 line 6: torch.nn.RNNCell (no torch recurrent modules or their ops)"
    ]
    assert found["rnn_forward"] == [
        "rnn_forward.ipynb cell 4 line 3: torch.nn.RNN (no torch recurrent modules or their ops)"
    ]


def test_a_script_message_names_the_line():
    found = check("import torch\n\n\ndef f(x):\n    '''doc'''\n    return torch.nn.GRU\n", filename="gated_cells.py")
    assert found["f"] == ["gated_cells.py line 6: torch.nn.GRU (no torch recurrent modules or their ops)"]


# end to end


HONEST_EXTRAS = '''

class Checker:
    """The student's own checks: its method names are no torch recurrent op."""

    def gru_cell(self, x, h, *weights):
        return gru_cell(x, h, *weights)

    def backward(self):
        return None


if __name__ == "__main__":
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(3, 4, dtype=torch.float64)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    assert torch.allclose(Checker().gru_cell(x, h, *weights), cell(x, h))
    Checker().backward()
'''


def test_honest_self_checks_get_full_marks(tmp_path: Path, course: Course):
    shutil.copy(ROOT / "reference" / "gated_cells.py", tmp_path / "gated_cells.py")
    with (tmp_path / "gated_cells.py").open("a") as module:
        module.write(HONEST_EXTRAS)
    report = grade_submission(tmp_path, course, only=["gated_cells"])
    [result] = report.assignments
    assert [(t.name, t.feedback) for t in result.tests if t.status != "passed"] == []
    assert result.score == pytest.approx(result.max_score)


def test_a_notebooks_breach_is_reported_in_its_own_cell(tmp_path: Path, course: Course):
    cell = (
        "def gru_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
        "    cell = torch.nn.GRUCell(x.shape[1], h_prev.shape[1], dtype=x.dtype)\n"
        "    return cell(x, h_prev)"
    )
    (tmp_path / "gated_cells.ipynb").write_text(notebook("import torch", cell))
    report = grade_submission(tmp_path, course, only=["gated_cells"])
    gru = [t for t in report.assignments[0].tests if t.task == "gru_cell"]
    assert gru and all(t.feedback and t.feedback.kind == "rule" for t in gru)
    assert all(
        "gated_cells.ipynb cell 3 line 2: torch.nn.GRUCell" in (t.feedback.message if t.feedback else "") for t in gru
    )
