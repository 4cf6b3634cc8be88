"""Every message that crosses the boundary, typed: what the grader asks and what the sandbox may answer.

A message travels as a :mod:`~grader.sandbox.inside.wire` frame of ``{"type": <class name>, <fields>}``.
:func:`read` turns a decoded frame back into one of the classes the reader expects, or raises
:class:`ProtocolError`: an unknown type, a missing or extra field, or a field of the wrong type is never
guessed at. Fields typed ``Any`` carry plain data (:func:`~grader.sandbox.inside.wire.export`), checked by the
grader's tests, not here.

The grader and a worker: :class:`Setup` (the first message; answered :class:`Ready`), then any of
:class:`Import`, :class:`CallFunction`, :class:`ReadConstant`, :class:`ReadParameters`, :class:`LoadParameters`
and :class:`Forget`, each answered :class:`Returned` or :class:`Raised`. A worker's rules are those of its
:class:`Setup`, for its whole life: nothing asks it to take more on once student code has run in it.

Objects of the student's (a model, an optimizer) never cross: a call can *keep* what it returns in the worker under
a number the grader chooses, and later requests name that number (a method's ``target``, an argument of
``kept``). What crosses about a kept object is plain data: its parameters as tensors, a method's result.

The grader and a zygote (one packet each
way): :class:`Fork` with three descriptors (requests, replies, output), answered :class:`Forked` or
:class:`Retire` (the zygote must be replaced); :class:`Reap`, answered :class:`Reaped`. A zygote announces
itself with :class:`ZygoteReady`.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from grader.sandbox.inside import wire

StudentError = Literal["missing", "import", "signature", "not_implemented", "exception", "resources", "rule"]
"""What went wrong in student code, as the worker saw it (:class:`Raised`)."""


class ProtocolError(Exception):
    """A message that is not one of the protocol's, or not one the reader expects here."""


@dataclass(frozen=True)
class Setup:
    """A new worker's submission: every module's source (modules may import each other), the rules the worker
    enforces for its whole life, and the processes its user may have (None: not capped here)."""

    sources: dict[str, str]
    rules: dict[str, bool]
    max_processes: int | None


@dataclass(frozen=True)
class Import:
    module: str


@dataclass(frozen=True)
class CallFunction:
    """Call ``module.function(*args)`` with ``cpu_seconds`` of CPU; ``watch``: send the arguments back as the
    call left them (a kept object's place as None).

    ``target``: call the method ``function`` of the object kept as ``target`` instead; ``kept``: the arguments at
    these positions (as strings: ``{"0": 3}``) are the objects kept as these numbers (``args`` holds None there);
    ``keep``: keep what the call returns as this number, answering None for it; ``seed``: seed torch's and Python's
    random generators with it first."""

    module: str
    function: str
    args: list[Any]
    cpu_seconds: float
    watch: bool
    target: int | None = None
    kept: dict[str, int] = dataclasses.field(default_factory=dict)
    keep: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ReadConstant:
    module: str
    name: str


@dataclass(frozen=True)
class ReadParameters:
    """The kept module ``handle``'s parameters, ``{name: tensor}`` as ``named_parameters()`` gives them."""

    handle: int
    cpu_seconds: float


@dataclass(frozen=True)
class LoadParameters:
    """Copy ``values`` into the kept module ``handle``'s parameters of the same names, which must be exactly these
    and of these shapes."""

    handle: int
    values: dict[str, Any]
    cpu_seconds: float


@dataclass(frozen=True)
class Forget:
    """Drop the kept objects ``handles`` (a test has ended)."""

    handles: list[int]


@dataclass(frozen=True)
class Ready:
    pass


@dataclass(frozen=True)
class Returned:
    """Student code ran to the end: what it returned, the arguments afterwards (``watch``), what it printed, and
    the rules whose refusal it met on the way (caught or not: see :data:`~.rules.REFUSED`)."""

    value: Any
    args: list[Any]
    printed: str
    refused: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Raised:
    """Student code failed; ``traceback`` holds only the student's own frames; ``refused`` as for
    :class:`Returned`."""

    kind: StudentError
    message: str
    printed: str
    traceback: str = ""
    exception: str = ""
    refused: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Fork:
    pass


@dataclass(frozen=True)
class Forked:
    pid: int


@dataclass(frozen=True)
class Retire:
    """The zygote refuses to fork: something a worker could change in it has changed, or it was misused."""

    error: str


@dataclass(frozen=True)
class Reap:
    pid: int
    grace: float


@dataclass(frozen=True)
class Reaped:
    """The worker's wait status (None: it was not the zygote's child), whether the zygote had to kill it (it had not
    exited within its grace) and whether nothing of it is left."""

    status: int | None
    clean: bool
    error: str = ""
    killed: bool = False


@dataclass(frozen=True)
class ZygoteReady:
    pass


Request = Import | CallFunction | ReadConstant | ReadParameters | LoadParameters | Forget
"""What the grader asks of a worker once it is set up, each answered :class:`Returned` or :class:`Raised`."""
REQUESTS = typing.get_args(Request)
Message = Setup | Request | Ready | Returned | Raised
Control = Fork | Forked | Retire | Reap | Reaped | ZygoteReady
KNOWN: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(Message) + typing.get_args(Control)}


def to_wire(message: Message | Control) -> dict[str, Any]:
    """The plain dict a frame carries: the fields that differ from their defaults (:func:`read` puts the defaults
    back), as a shallow copy (values are never walked or copied here)."""
    cls: type = type(message)
    data = {"type": cls.__name__}
    for name, default in schema(cls).defaults.items():
        value = getattr(message, name)
        if not (default is not NO_DEFAULT and type(value) is type(default) and value == default):
            data[name] = value
    return data


def frame(message: Message | Control) -> bytes:
    return wire.encode(to_wire(message))


Checker = typing.Callable[[Any], bool]
NO_DEFAULT = object()


def checker(hint: Any) -> Checker:
    """A test of whether a value has the type ``hint`` names, exactly (a bool is no int, only a float field takes
    an int); the items of containers are checked, ``Any`` is not."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return lambda value: True
    if origin is Literal:
        allowed = frozenset(args)
        return lambda value: type(value) is str and value in allowed
    if origin in (types.UnionType, typing.Union):
        options = [checker(option) for option in args]
        return lambda value: any(option(value) for option in options)
    if origin is list:
        if args[0] is Any:
            return lambda value: type(value) is list
        item = checker(args[0])
        return lambda value: type(value) is list and all(map(item, value))
    if origin is dict:
        entry = checker(args[1])
        return lambda value: type(value) is dict and all(type(k) is str and entry(v) for k, v in value.items())
    if hint is type(None):
        return lambda value: value is None
    if hint is float:
        return lambda value: type(value) in (float, int)
    return lambda value: type(value) is hint


@dataclass(frozen=True)
class Schema:
    """A message class's fields: each one's checker and type as written, and its default (:data:`NO_DEFAULT`: it
    must be given)."""

    checkers: dict[str, Checker]
    hints: dict[str, Any]
    defaults: dict[str, Any]


@functools.cache
def schema(cls: type) -> Schema:
    hints = typing.get_type_hints(cls)
    defaults = {}
    for spec in dataclasses.fields(cls):
        if spec.default is not dataclasses.MISSING:
            defaults[spec.name] = spec.default
        elif spec.default_factory is not dataclasses.MISSING:
            defaults[spec.name] = spec.default_factory()
        else:
            defaults[spec.name] = NO_DEFAULT
    return Schema({name: checker(hints[name]) for name in defaults}, {name: hints[name] for name in defaults}, defaults)


def read(data: dict[str, Any], expected: tuple[type, ...]) -> Any:
    """The message of a class in ``expected`` that ``data`` (a decoded frame) is; :class:`ProtocolError` otherwise
    (the caller annotates what it gets: one of ``expected``)."""
    name = data.get("type")
    cls = KNOWN.get(name) if type(name) is str else None
    if cls is None or cls not in expected:
        wanted = " or ".join(c.__name__ for c in expected)
        raise ProtocolError(f"expected {wanted}, got a message of type {wire.type_name(name)} {str(name)[:40]!r}")
    fields = schema(cls)
    given = {}
    for key, value in data.items():
        if key == "type":
            continue
        check = fields.checkers.get(key)
        if check is None:
            raise ProtocolError(f"{name} has no field {key[:40]!r}")
        if not check(value):
            raise ProtocolError(f"{name}.{key} is a {wire.type_name(value)}, not {fields.hints[key]}")
        given[key] = value
    if len(given) < len(fields.defaults):
        for key, default in fields.defaults.items():
            if key not in given:
                if default is NO_DEFAULT:
                    raise ProtocolError(f"{name} lacks its field {key!r}")
                given[key] = copy.copy(default)
    return cls(**given)


def send(fd: int, message: Message, deadline: float | None = None) -> None:
    """Write ``message`` to the stream ``fd`` by ``deadline`` (:func:`~grader.sandbox.inside.wire.write_all`)."""
    wire.write_all(fd, frame(message), deadline)


def receive(fd: int, expected: tuple[type, ...], deadline: float | None = None) -> Any:
    """The next message on the stream ``fd``, read, decoded and checked by ``deadline``."""
    return read(wire.receive(fd, deadline), expected)
