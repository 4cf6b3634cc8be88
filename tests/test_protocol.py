"""The typed protocol: every message round-trips, and anything that is not exactly a message the reader expects is a
:class:`ProtocolError`, never a guess; a forged reply from student code is the worker's doing, not the sandbox's."""

from __future__ import annotations

import pytest
import torch

from grader.limits import Limits
from grader.sandbox.bubblewrap import bwrap_problem
from grader.sandbox.inside import protocol, wire
from grader.sandbox.inside.protocol import (
    CallFunction,
    Fork,
    Forked,
    Import,
    ProtocolError,
    Raised,
    ReadConstant,
    Ready,
    Reap,
    Reaped,
    Retire,
    Returned,
    Setup,
    ZygoteReady,
)
from grader.sandbox.outcome import Outcome, Status
from grader.sandbox.worker_client import WorkerClient

MESSAGES = [
    Setup(sources={"m": "x = 1\n"}, rules={"no_autograd": True}, max_processes=None),
    Import(module="m"),
    CallFunction(module="m", function="f", args=[torch.ones(2), [1, 2.5], {"k": None}], cpu_seconds=3, watch=True),
    ReadConstant(module="m", name="N"),
    Ready(),
    Returned(value=(1, "two"), args=[], printed="hi\n"),
    Raised(kind="exception", message="f raised ValueError", printed="", traceback="line 3", exception="ValueError"),
    Fork(),
    Forked(pid=12),
    Retire(error="its nice changed"),
    Reap(pid=12, grace=0.5),
    Reaped(status=None, clean=True),
    ZygoteReady(),
]


def through_the_wire(message: protocol.Message | protocol.Control) -> dict:
    return wire.unframe(protocol.frame(message))


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message: protocol.Message | protocol.Control) -> None:
    got = protocol.read(through_the_wire(message), (type(message),))
    assert type(got) is type(message)
    for key, value in protocol.to_wire(message).items():
        if key != "type":
            mine = getattr(got, key)
            assert wire.type_name(mine) == wire.type_name(value)
            assert repr(mine) == repr(value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"type": "Returned", "value": 1, "args": [], "printed": "", "ok": True}, "has no field 'ok'"),
        ({"type": "Returned", "value": 1, "args": []}, "lacks its field 'printed'"),
        ({"type": "Returned", "value": 1, "args": (), "printed": ""}, "Returned.args is a tuple"),
        ({"type": "Raised", "kind": "sandbox", "message": "", "printed": ""}, "Raised.kind is a str"),
        ({"type": "Raised", "kind": "exception", "message": 3, "printed": ""}, "Raised.message is a int"),
        ({"type": "Returned", "value": 1, "args": [], "printed": b"x"}, "Returned.printed is a bytes"),
        ({"type": "Exploded"}, "expected Returned or Raised"),
        ({"type": 7}, "expected Returned or Raised"),
        ({"value": 1}, "expected Returned or Raised"),
        ({"type": "Ready"}, "got a message of type str 'Ready'"),
        ({"type": "__init__"}, "expected Returned or Raised"),
    ],
)
def test_anything_else_is_a_protocol_error(data: dict, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        protocol.read(data, (Returned, Raised))


def test_only_the_sandbox_failing_is_not_the_students() -> None:
    assert [status for status in Status if not Outcome(status).students] == [Status.SANDBOX_ERROR]
    assert not Outcome(Status.OK).ended_worker and not Outcome(Status.STUDENT_ERROR).ended_worker
    assert all(Outcome(s).ended_worker for s in Status if s not in (Status.OK, Status.STUDENT_ERROR))


FORGER = '''
import os

def forge(kind):
    """Write a reply of its own to every pipe it may write, before the worker's real one."""
    from grader.sandbox.inside import protocol, wire
    frame = wire.encode({"type": "Raised", "kind": kind, "message": "forged", "printed": ""})
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2:
            try:
                os.write(fd, frame)
            except OSError:
                pass
    return "real"
'''


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs bubblewrap: {bwrap_problem()}")
def test_a_reply_forged_by_student_code_is_a_protocol_error_charged_to_it() -> None:
    worker = WorkerClient({"forger": FORGER}, {}, Limits())
    try:
        call = CallFunction(module="forger", function="forge", args=["sandbox"], cpu_seconds=5, watch=False)
        outcome = worker.ask(call, timeout=30.0)
        assert outcome.status is Status.PROTOCOL_ERROR and outcome.students, outcome
        assert "Raised.kind" in outcome.message
        assert not worker.started, "a worker that spoke nonsense is not asked again"
        call = CallFunction(module="forger", function="forge", args=["exception"], cpu_seconds=5, watch=False)
        forged = worker.ask(call, timeout=30.0)  # a well-formed forgery is only ever the student's own failure
        assert forged.status is Status.STUDENT_ERROR and isinstance(forged.reply, Raised), forged
    finally:
        worker.close()


def test_fields_left_at_their_defaults_stay_off_the_wire():
    data = through_the_wire(CallFunction(module="m", function="f", args=[], cpu_seconds=1.0, watch=False))
    assert set(data) == {"type", "module", "function", "args", "cpu_seconds", "watch"}
    first, second = (protocol.read(data, (CallFunction,)) for _ in range(2))
    assert first == CallFunction(module="m", function="f", args=[], cpu_seconds=1.0, watch=False)
    assert first.kept == {} and first.kept is not second.kept  # a default is never shared between messages
    kept = through_the_wire(
        CallFunction(module="m", function="f", args=[None], cpu_seconds=1.0, watch=False, kept={"0": 0})
    )
    assert kept["kept"] == {"0": 0} and protocol.read(kept, (CallFunction,)).kept == {"0": 0}
