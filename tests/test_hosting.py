"""A module graded under stricter rules than its own, so that a submission starts fewer workers
(:func:`grader.rules.host_rules`), and graded again under its own when those rules still get in its way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from conftest import ROOT

from grader.engine import grade_submission
from grader.rules import extra_rules, host_rules
from grader.sandbox.session import SubmissionSession
from grader.spec import Course

NONE = {"no_autograd": False, "no_recurrent_modules": False, "no_recurrent_layers": False}
MODULES = {**NONE, "no_recurrent_modules": True}
LAYERS = {**NONE, "no_recurrent_layers": True}
BOTH = {**MODULES, "no_autograd": True}
PLAIN = "import torch\n\ndef f(x):\n    return torch.tanh(x)\n"

SHAPES_BY_THE_LAYER = '''import operator

import torch

KINDS = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    layer = operator.attrgetter("nn." + KINDS[cell])(torch)
    built = layer(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional)
    built(torch.zeros(1, 1, input_size))  # a self-check that the layer runs: its operator is called
    return {name: tuple(p.shape) for name, p in built.named_parameters()}
'''
"""An honest shapes.py reading the table off torch's own layer, reached by a route the static check does not
follow (``operator.attrgetter``), and running it: nothing in its source keeps it out of a worker without
recurrent layers."""
CAUGHT = SHAPES_BY_THE_LAYER.replace(
    "    built = layer(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional)\n",
    "    try:\n"
    "        built = layer(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional)\n"
    "        built(torch.zeros(1, 1, input_size))\n"
    "    except Exception:\n"
    "        return {}\n",
).replace("    built(torch.zeros(1, 1, input_size))  # a self-check that the layer runs: its operator is called\n", "")
"""The same, catching whatever building the layer raises: it meets the refusal all the same."""


def hosts_of(sources: dict[str, str], rules: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    return host_rules({name: (source, f"{name}.py") for name, source in sources.items()}, rules)


def test_the_reference_submission_needs_one_worker_per_rule_set_that_cannot_be_hosted(course: Course) -> None:
    sources = {name: course.reference_module(name).read_text() for name in course.assignments}
    rules = {name: course.assignment(name).spec.rules.model_dump() for name in course.assignments}
    hosts = hosts_of(sources, rules)
    graded_under = {name: hosts.get(name, rules[name]) for name in sources}
    assert graded_under == {
        "attention": MODULES,  # hosted by rnn_forward's and gated_cells' rule set
        "shapes": MODULES,
        "taxonomy": MODULES,
        "rnn_forward": MODULES,
        "gated_cells": MODULES,
        "bptt": BOTH,  # never a host for the others: gradients off change what torch does
        "name_classifier": LAYERS,  # it trains torch.nn.RNNCell: no worker without cells fits it
    }
    assert sorted(hosts) == ["attention", "shapes", "taxonomy"]


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("import torch\n\ndef f(x):\n    return torch.nn.LSTM(3, 4)(x)\n", "a recurrent layer"),
        ("def f(lstm_state):\n    return lstm_state\n", "a name with lstm in it"),
        ("import torch\n\ndef f(x, n):\n    return getattr(torch, n)(x)\n", "a computed name on torch"),
        ("import ctypes\n\ndef f(x):\n    return x\n", "native code"),
    ],
)
def test_a_module_that_would_behave_otherwise_under_the_stricter_rules_keeps_its_own(source: str, why: str) -> None:
    assert hosts_of({"host": PLAIN, "guest": PLAIN}, {"host": MODULES, "guest": NONE}) == {"guest": MODULES}
    assert hosts_of({"host": PLAIN, "guest": source}, {"host": MODULES, "guest": NONE}) == {}, why


def test_a_module_is_never_hosted_where_gradients_are_off() -> None:
    """With gradients off torch lets pass what it refuses with them on (an in-place copy into a parameter,
    ``.numpy()`` of a result that requires grad), without a refusal to notice."""
    copy_into = "import torch\n\ndef f(w):\n    layer = torch.nn.Linear(2, 2)\n    layer.weight.copy_(w)\n"
    for guest in (PLAIN, copy_into):
        assert hosts_of({"host": PLAIN, "guest": guest}, {"host": BOTH, "guest": NONE}) == {}
        assert hosts_of({"host": PLAIN, "guest": guest}, {"host": BOTH, "guest": MODULES}) == {}


def test_a_module_is_hosted_only_where_a_worker_starts_anyway() -> None:
    sources = {"plain": PLAIN, "other": PLAIN, "ruled": PLAIN}
    assert hosts_of(sources, {"plain": NONE, "other": NONE, "ruled": MODULES}) == {"plain": MODULES, "other": MODULES}
    assert hosts_of(sources, {"plain": NONE, "other": NONE, "ruled": NONE}) == {}
    # once one module of a rule set keeps its worker, the next of that set stays with it
    layer = "import torch\n\ndef f(x):\n    return torch.nn.GRU(3, 4)(x)\n"
    assert hosts_of({"a": layer, "b": PLAIN, "ruled": PLAIN}, {"a": NONE, "b": NONE, "ruled": MODULES}) == {}
    # the recurrent layers' module trains a cell: a worker without cells does not fit it
    cells = "import torch\n\ncell = torch.nn.RNNCell(3, 4)\n"
    assert hosts_of({"cells": cells, "ruled": PLAIN}, {"cells": LAYERS, "ruled": MODULES}) == {}
    assert hosts_of({"layers": PLAIN, "ruled": PLAIN}, {"layers": LAYERS, "ruled": MODULES}) == {"layers": MODULES}


def test_extra_rules_know_that_no_recurrent_modules_refuses_all_that_no_recurrent_layers_does() -> None:
    assert extra_rules(MODULES, LAYERS) == {"no_recurrent_modules"}
    assert extra_rules(LAYERS, MODULES) is None
    assert extra_rules(BOTH, MODULES) == {"no_autograd"}
    assert extra_rules(MODULES, MODULES) == set()
    assert extra_rules(NONE, BOTH) is None


@pytest.mark.parametrize("source", [SHAPES_BY_THE_LAYER, CAUGHT], ids=["raised", "caught"])
def test_a_hosted_module_that_meets_a_refusal_is_graded_again_under_its_own_rules(
    course: Course, tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference_shapes = course.reference_module("shapes").read_text()
    rest = reference_shapes[reference_shapes.index("def parameter_count") :]
    (tmp_path / "shapes.py").write_text(source + "\n\n" + "import math\n\n\n" + rest)
    shutil.copy(ROOT / "reference" / "rnn_forward.py", tmp_path)
    sources = {"shapes": (tmp_path / "shapes.py").read_text(), "rnn_forward": (tmp_path / "rnn_forward.py").read_text()}
    rules = {name: course.assignment(name).spec.rules.model_dump() for name in sources}
    assert hosts_of(sources, rules) == {"shapes": MODULES}  # hosted, as nothing in its source says otherwise
    unhosted: list[str] = []
    unhost = SubmissionSession.unhost
    spy = lambda self, module: (unhosted.append(module), unhost(self, module))  # noqa: E731
    monkeypatch.setattr(SubmissionSession, "unhost", spy)
    report = grade_submission(tmp_path, course, ["shapes", "rnn_forward"])
    assert unhosted == ["shapes"]
    assert {a.name: a.score for a in report.assignments} == {"shapes": 10.0, "rnn_forward": 10.0}
    assert not report.incomplete


def test_a_refusal_of_the_module_s_own_rule_is_charged_not_graded_again(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rnn_forward, hosting attention, reaching torch's RNN by a route the reading does not follow: that refusal is
    its own rule's, so it costs the function, and no second grading lets it through."""
    reference = course.reference_module("rnn_forward").read_text()
    cheat = reference.replace(
        "def rnn_forward(",
        "import operator\n\n\ndef rnn_forward(*args):\n"
        "    operator.attrgetter('nn.RNN')(torch)(3, 4)(torch.zeros(1, 1, 3))\n"
        "    return honest(*args)\n\n\ndef honest(",
        1,
    )
    (tmp_path / "rnn_forward.py").write_text(cheat)
    shutil.copy(ROOT / "reference" / "attention.py", tmp_path)
    unhosted: list[str] = []
    monkeypatch.setattr(SubmissionSession, "unhost", lambda self, module: unhosted.append(module))
    report = grade_submission(tmp_path, course, ["rnn_forward", "attention"])
    scores = {a.name: a.score for a in report.assignments}
    assert unhosted == []
    assert scores["attention"] == 10.0  # hosted by rnn_forward's rules, untouched by its breach
    failed = [t for a in report.assignments if a.name == "rnn_forward" for t in a.tests if t.status != "passed"]
    assert scores["rnn_forward"] < 10.0
    assert failed and all(t.feedback is not None and t.feedback.kind == "rule" for t in failed)


SETS_FLOAT64 = "import torch\n\ntorch.set_default_dtype(torch.float64)\n\ndef zeros():\n    return torch.zeros(1)\n"
ZEROS = (
    "import torch\n\ndef zeros():\n    return torch.zeros(1)\n\n"
    "def modes():\n    return torch._C._len_torch_function_stack()\n"
)


def test_what_one_module_sets_in_torch_the_next_module_in_its_worker_does_not_inherit() -> None:
    from grader.limits import Limits
    from grader.sandbox.inside.protocol import CallFunction

    session = SubmissionSession(
        {"first": SETS_FLOAT64, "second": ZEROS}, {"first": NONE, "second": MODULES}, Limits(), {"first": MODULES}
    )
    try:

        def value(module: str, function: str) -> object:
            request = CallFunction(module=module, function=function, args=[], cpu_seconds=10.0, watch=False)
            return session.ask(module, request, 30.0, function).value

        assert value("first", "zeros").dtype == torch.float64  # its own import's setting holds for its own calls
        worker = session.worker
        assert value("second", "zeros").dtype == torch.float32
        assert session.worker is worker  # one worker for both
        assert value("second", "modes") == 0  # nothing put back in front of every torch call (a default device)
    finally:
        session.close()
