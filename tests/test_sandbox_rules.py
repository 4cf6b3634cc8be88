"""The contract's rules hold at run time by every route student code can take, computed names included: a worker
of a module with ``no_autograd`` cannot switch gradients on, a worker with ``no_recurrent_modules`` cannot run a
recurrent operator of torch, one with ``no_recurrent_layers`` no recurrent layer (its cells run and train), and
honest code (``torch.no_grad``, ``inference_mode``, plain tensor code) runs.
What the run-time rules cannot stop (native code) the static check refuses."""

from __future__ import annotations

import pytest

from grader import rules as static
from grader.limits import Limits
from grader.rules import static_violations
from grader.sandbox.inside import rules as inside
from grader.sandbox.inside.protocol import CallFunction, Raised, Returned
from grader.sandbox.worker_client import WorkerClient
from grader.spec import Rules

ROUTES = r"""
import gc, threading
import torch

SEVEN = [7.0, 7.0, 7.0]  # the gradient of sum(t * t * 3.5) at ones, which each route tries to get from autograd


def leaf():
    return torch.ones(3, requires_grad=True)


def square(t):
    return (t * t * 3.5).sum()


def through_set_grad_enabled():
    t = leaf()
    torch._C._set_grad_enabled(True)
    square(t).backward()
    return t.grad.tolist()


def through_enable_grad():
    t = leaf()
    with torch.enable_grad():
        y = square(t)
    return torch.autograd.grad(y, t)[0].tolist()


def through_set_grad_enabled_class():
    t = leaf()
    with torch.set_grad_enabled(True):
        y = square(t)
    return torch.autograd.grad(y, t)[0].tolist()


def through_inference_mode_off():
    t = leaf()
    with torch.inference_mode(False):
        y = square(t)
    return torch.autograd.grad(y, t)[0].tolist()


def through_a_computed_name():
    t = leaf()
    getattr(torch._C, "_set_grad" + "_enabled")(True)
    y = square(t)
    return getattr(torch, "auto" + "grad").grad(y, t)[0].tolist()


def through_forward_mode():
    import torch.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        dual = fwAD.make_dual(torch.ones(3), torch.ones(3))
        return (fwAD.unpack_dual(dual * dual * 3.5).tangent).tolist()


def through_torch_func():
    return torch.func.grad(square)(torch.ones(3)).tolist()


def through_jacobian():
    return torch.autograd.functional.jacobian(square, torch.ones(3)).tolist()


def through_every_switch_gc_finds():
    gc.unfreeze()
    for found in gc.get_objects():
        if isinstance(found, dict):
            for name in ("_set_grad_enabled", "set_grad_enabled", "_enable_grad"):
                switch = found.get(name)
                if callable(switch):
                    try:
                        switch(True)
                    except Exception:
                        pass
    t = leaf()
    return torch.autograd.grad(square(t), t)[0].tolist()


def through_a_thread():
    got = {}

    def run():
        t = leaf()
        got["grad"] = torch.autograd.grad(square(t), t)[0].tolist()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return got["grad"]


def honest():
    with torch.no_grad():
        t = torch.ones(3) * 7.0
    with torch.inference_mode():
        u = t + 0.0
    return u.tolist()


X, H = torch.ones(1, 3), torch.zeros(1, 4)
W_IH, W_HH = torch.ones(12, 3) * 0.1, torch.ones(12, 4) * 0.1


def gru_module():
    return torch.nn.GRUCell(3, 4)(X, H).tolist()


def gru_vf():
    return torch._VF.gru_cell(X, H, W_IH, W_HH, None, None).tolist()


def gru_ops():
    return torch.ops.aten.gru_cell(X, H, W_IH, W_HH, None, None).tolist()


def gru_computed():
    return getattr(torch, "gru" + "_cell")(X, H, W_IH, W_HH, None, None).tolist()


def lstm_layer_in_inference_mode():
    with torch.inference_mode():
        return torch.nn.LSTM(3, 4)(torch.ones(2, 1, 3))[0].tolist()


def rnn_layer():
    return torch.nn.RNN(3, 4)(torch.ones(2, 1, 3))[0].tolist()


def jit_operation():
    return torch._C._jit_get_operation("aten::lstm_cell")[0](X, (H, H), torch.ones(16, 3), torch.ones(16, 4)).tolist()


def plain_ops():
    return torch.tanh(X @ W_IH.T).shape[1]
"""

AUTOGRAD_ROUTES = [
    "through_set_grad_enabled",
    "through_enable_grad",
    "through_set_grad_enabled_class",
    "through_inference_mode_off",
    "through_a_computed_name",
    "through_forward_mode",
    "through_torch_func",
    "through_jacobian",
    "through_every_switch_gc_finds",
    "through_a_thread",
]
RECURRENT_ROUTES = [
    "gru_module",
    "gru_vf",
    "gru_ops",
    "gru_computed",
    "lstm_layer_in_inference_mode",
    "rnn_layer",
    "jit_operation",
]


@pytest.fixture(scope="module")
def ruled() -> dict[str, Returned | Raised]:
    """Each route's reply in one worker that serves both rules (each call fails on its own)."""
    worker = WorkerClient({"routes": ROUTES}, {"no_autograd": True, "no_recurrent_modules": True}, Limits())
    replies = {}
    try:
        for function in [*AUTOGRAD_ROUTES, *RECURRENT_ROUTES, "honest", "plain_ops"]:
            call = CallFunction(module="routes", function=function, args=[], cpu_seconds=20.0, watch=False)
            outcome = worker.ask(call, timeout=60.0)
            assert outcome.reply is not None, f"{function}: {outcome}"
            replies[function] = outcome.reply
    finally:
        worker.close()
    return replies


@pytest.mark.parametrize("route", AUTOGRAD_ROUTES)
def test_no_route_switches_gradients_on(ruled: dict[str, Returned | Raised], route: str) -> None:
    reply = ruled[route]
    assert isinstance(reply, Raised) and reply.kind == "rule", reply
    assert "no autograd" in reply.message


@pytest.mark.parametrize("route", RECURRENT_ROUTES)
def test_no_route_reaches_a_recurrent_operator(ruled: dict[str, Returned | Raised], route: str) -> None:
    reply = ruled[route]
    assert isinstance(reply, Raised) and reply.kind == "rule", reply
    assert "recurrent" in reply.message


def test_honest_code_runs_under_the_rules(ruled: dict[str, Returned | Raised]) -> None:
    assert isinstance(ruled["honest"], Returned) and ruled["honest"].value == [7.0, 7.0, 7.0]
    assert isinstance(ruled["plain_ops"], Returned) and ruled["plain_ops"].value == 12


def test_without_rules_every_route_works() -> None:
    """The same routes in a worker without rules: what the rules take out is really there to take."""
    worker = WorkerClient({"routes": ROUTES}, {}, Limits())
    try:
        for function in ["through_set_grad_enabled", "through_a_thread", "through_torch_func", "gru_ops", "rnn_layer"]:
            call = CallFunction(module="routes", function=function, args=[], cpu_seconds=20.0, watch=False)
            outcome = worker.ask(call, timeout=60.0)
            assert isinstance(outcome.reply, Returned), f"{function}: {outcome}"
        seven = CallFunction(module="routes", function="through_enable_grad", args=[], cpu_seconds=20.0, watch=False)
        assert worker.ask(seven, timeout=60.0).reply == Returned(value=[7.0, 7.0, 7.0], args=[], printed="")
    finally:
        worker.close()


@pytest.mark.parametrize(
    "source",
    [
        "import ctypes\n",
        "from ctypes import CDLL\n",
        "import cffi\n",
        "def f():\n    import _ctypes\n",
        "def f():\n    return __import__('ctypes')\n",
        "import torch\n\ndef f():\n    return torch.ctypes.CDLL(None)\n",
        "from torch import ctypes\n",
        "import torch\n\n_T = [torch][0]\n\ndef f():\n    return _T.ctypes\n",
    ],
)
def test_native_code_is_a_breach_in_a_ruled_module(source: str) -> None:
    """ctypes can call libtorch's own C++ (``c10::GradMode::set_enabled``) past every run-time rule."""
    for rules in (Rules(no_autograd=True), Rules(no_recurrent_layers=True)):
        found = static_violations(source, rules, "bptt.py")
        assert any("native code" in message for messages in found.values() for message in messages), found
    assert not static_violations(source, Rules(), "shapes.py")


LAYER_ROUTES = r"""
import torch
import torch._decomp.decompositions as decompositions

X, H = torch.ones(2, 1, 3), torch.zeros(1, 1, 4)
LSTM_WEIGHTS, GRU_WEIGHTS = [torch.ones(16, 3), torch.ones(16, 4)], [torch.ones(12, 3), torch.ones(12, 4)]
LAYER_ARGS = (False, 1, 0.0, False, False, False)


def lstm_module():
    return torch.nn.LSTM(3, 4)(X)[0].tolist()


def gru_module():
    return torch.nn.GRU(3, 4)(X)[0].tolist()


def rnn_relu_module():
    return torch.nn.RNN(3, 4, nonlinearity="relu")(X)[0].tolist()


def lstm_computed():
    return getattr(torch.nn, "L" + "STM")(3, 4)(X)[0].tolist()


def lstm_vf():
    return torch._VF.lstm(X, (H, H), LSTM_WEIGHTS, *LAYER_ARGS)[0].tolist()


def lstm_ops():
    return torch.ops.aten.lstm(X, [H, H], LSTM_WEIGHTS, *LAYER_ARGS)[0].tolist()


def gru_variable_functions():
    return torch._C._VariableFunctions.gru(X, H, GRU_WEIGHTS, *LAYER_ARGS)[0].tolist()


def gru_jit_operation():
    return torch._C._jit_get_operation("aten::gru")[0](X, H, GRU_WEIGHTS, *LAYER_ARGS)[0].tolist()


def lstm_in_python():
    return decompositions.lstm_impl(X, [H, H], LSTM_WEIGHTS, *LAYER_ARGS)[0].tolist()


def cell_ops():
    x, h = torch.ones(1, 3), torch.zeros(1, 4)
    return [
        list(torch._VF.rnn_tanh_cell(x, h, torch.ones(4, 3), torch.ones(4, 4), None, None).shape),
        list(torch.ops.aten.gru_cell(x, h, *GRU_WEIGHTS, None, None).shape),
        list(getattr(torch, "lstm" + "_cell")(x, (h, h), *LSTM_WEIGHTS)[1].shape),
        list(decompositions.gru_cell_data(x, h, GRU_WEIGHTS[0], None, GRU_WEIGHTS[1], None).shape),
    ]


def loss_of(cell, xs):
    state = None
    for x in xs:  # the loop over time the rule is about
        state = cell(x, state)
    h = state[0] if isinstance(state, tuple) else state
    return (h - 0.5).pow(2).sum()


def trained_cells():
    torch.manual_seed(0)
    xs = torch.randn(5, 2, 3)
    lower = []
    for cell in (torch.nn.RNNCell(3, 4), torch.nn.GRUCell(3, 4), torch.nn.LSTMCell(3, 4)):
        before = loss_of(cell, xs)
        before.backward()
        with torch.no_grad():
            for parameter in cell.parameters():
                parameter -= 0.1 * parameter.grad
        lower.append(loss_of(cell, xs).item() < before.item())
    return lower
"""

LAYER_ROUTE_NAMES = [
    "lstm_module",
    "gru_module",
    "rnn_relu_module",
    "lstm_computed",
    "lstm_vf",
    "lstm_ops",
    "gru_variable_functions",
    "gru_jit_operation",
    "lstm_in_python",
]


@pytest.fixture(scope="module")
def layers_ruled() -> dict[str, Returned | Raised]:
    """Each route's reply in one worker with ``no_recurrent_layers`` alone (autograd allowed, as the assignment
    that wants the rule does)."""
    worker = WorkerClient({"layers": LAYER_ROUTES}, {"no_recurrent_layers": True}, Limits())
    replies = {}
    try:
        for function in [*LAYER_ROUTE_NAMES, "cell_ops", "trained_cells"]:
            call = CallFunction(module="layers", function=function, args=[], cpu_seconds=20.0, watch=False)
            outcome = worker.ask(call, timeout=60.0)
            assert outcome.reply is not None, f"{function}: {outcome}"
            replies[function] = outcome.reply
    finally:
        worker.close()
    return replies


@pytest.mark.parametrize("route", LAYER_ROUTE_NAMES)
def test_no_route_reaches_a_recurrent_layer(layers_ruled: dict[str, Returned | Raised], route: str) -> None:
    reply = layers_ruled[route]
    assert isinstance(reply, Raised) and reply.kind == "rule", reply
    assert "recurrent layers" in reply.message and "RNNCell" in reply.message, reply.message


def test_cells_work_and_train_under_no_recurrent_layers(layers_ruled: dict[str, Returned | Raised]) -> None:
    assert layers_ruled["cell_ops"] == Returned(value=[[1, 4]] * 4, args=[], printed="")
    assert layers_ruled["trained_cells"] == Returned(value=[True] * 3, args=[], printed="")


def test_without_rules_every_layer_route_works() -> None:
    """What ``no_recurrent_layers`` takes out is really there to take."""
    worker = WorkerClient({"layers": LAYER_ROUTES}, {}, Limits())
    try:
        for function in LAYER_ROUTE_NAMES:
            call = CallFunction(module="layers", function=function, args=[], cpu_seconds=20.0, watch=False)
            assert isinstance(worker.ask(call, timeout=60.0).reply, Returned), function
    finally:
        worker.close()


def test_the_static_and_run_time_checks_name_the_rules_alike() -> None:
    assert inside.RULE_NAMES == static.RULE_NAMES and set(static.RULE_NAMES) == set(Rules.model_fields)


def test_a_target_is_replaced_where_the_zygote_found_it_and_where_it_moved_since() -> None:
    def old() -> None: ...

    def new() -> None: ...

    table, row, bag = {"a": old, "b": 1}, [1, old, old], {old, 2}
    moved = {"c": old}
    places = [place for place in inside.places_of([old]) if any(place[0] is h for h in (table, row, bag, moved))]
    assert sorted(place[1] for place in places if place[0] is row) == [1, 2]
    moved["d"] = moved.pop("c")  # after the zygote looked: that holder is searched again
    inside.replace_at(places, {id(old): new})
    assert table == {"a": new, "b": 1} and row == [1, new, new] and bag == {new, 2} and moved == {"d": new}
