"""Red team, issue 11: gated_cells.py with its cells computed by the run-time guards found through gc and torch's
closures and switched off, then torch._VF (reached through _T).

gru_forward and lstm_forward are the reference's, over these cells. Were this route allowed, the module would
earn full marks. The code between ``# ROUTE`` and ``# END ROUTE`` is the route; the tests also grade it with
``torch.`` rewritten ``_T.`` (torch as no reading can pin it), so that only the run-time guards stand in its
way.
"""

import gc
import types

import torch
from torch import Tensor

_T = [torch][0]
"""torch, as no reading of the source can tell."""


# ROUTE
_DISARMED: list = []
_SEARCHED: list = []


def _disarm() -> None:
    """Switch the run-time guards off: look for them in the closures of torch's functions (and their properties')
    and among every object the collector tracks, and set every dict attribute named ``active`` to {} (again at
    each call: the grader sets it anew for every call); their lists of violations are emptied too."""
    if not _SEARCHED:
        _SEARCHED.append(True)
        candidates = list(gc.get_objects())
        owners = (_T, _T.autograd, _T.func, _T.Tensor, _T._C.TensorBase, _T._VF, _T.nn, _T.nn.modules.rnn, _T.ops.aten)
        for owner in owners:
            try:
                values = list(vars(owner).values())
            except TypeError:
                continue
            for value in values:
                functions = [value.fget, value.fset] if isinstance(value, property) else [value]
                for fn in functions:
                    for cell in fn.__closure__ or () if isinstance(fn, types.FunctionType) else ():
                        try:
                            candidates.append(cell.cell_contents)
                        except ValueError:  # an empty cell
                            pass
        for candidate in candidates:
            if isinstance(candidate, type | types.ModuleType):
                continue
            try:
                if isinstance(vars(candidate).get("active"), dict):
                    _DISARMED.append(candidate)
            except Exception:
                continue
    for guard in _DISARMED:
        guard.active = {}
        if isinstance(getattr(guard, "violations", None), list):
            guard.violations.clear()


def _gru(x, h, W_ih, W_hh, b_ih, b_hh):
    _disarm()
    return _T._VF.gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)


def _lstm(x, h, c, W_ih, W_hh, b_ih, b_hh):
    _disarm()
    return tuple(_T._VF.lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh))
# END ROUTE


def gru_cell(x: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    return _gru(x, h_prev, W_ih, W_hh, b_ih, b_hh)


def lstm_cell(
    x: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    h, c = _lstm(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return h, c


def gru_forward(x: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """The GRU cell over a whole sequence, starting from h0.

    x (T, B, D), h0 (B, H) -> hs (T, B, H) holding h_1 .. h_T, h_last (B, H) == hs[-1]
    """
    ### BEGIN SOLUTION
    h = h0
    hs = []
    for x_t in x:  # x_t (B, D)
        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), h


def lstm_forward(
    x: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The LSTM cell over a whole sequence, starting from (h0, c0).

    x (T, B, D), h0 (B, H), c0 (B, H)
    -> hs (T, B, H) holding h_1 .. h_T, and the pair (h_last, c_last), each (B, H), with h_last == hs[-1]
    """
    ### BEGIN SOLUTION
    h, c = h0, c0
    hs = []
    for x_t in x:  # x_t (B, D)
        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), (h, c)
