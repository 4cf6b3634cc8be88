"""The one record every call into a worker ends in, in the spirit of isolate's and CMS's sandbox status.

Only the grader builds it (:mod:`grader.sandbox.worker_client`), from what it saw, never from what a worker says
about itself: a reply that is not one of the protocol's is :attr:`Status.PROTOCOL_ERROR`, not a guess. Exactly
one status, :attr:`Status.SANDBOX_ERROR`, is the grader's own failure (no student code had run, or the sandbox
could not be built), and it is never charged to the student.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from grader.sandbox.inside.protocol import Raised, Returned


class Status(enum.Enum):
    OK = "ok"
    """Student code ran to the end; :attr:`Outcome.reply` is its :class:`Returned`."""
    STUDENT_ERROR = "student_error"
    """Student code failed (raised, is missing, broke a rule); :attr:`Outcome.reply` is the worker's :class:`Raised`."""
    TIMEOUT = "timeout"
    """The call ran past its CPU or wall time; the worker was killed."""
    RESOURCES = "resources"
    """The worker was killed by a limit: memory, processes, file size."""
    DIED = "died"
    """The worker ended while student code ran (an exit, a crash)."""
    PROTOCOL_ERROR = "protocol_error"
    """The reply was not a message of the protocol, or not one that answers the request: only code running in the
    worker can have written it, so it counts as the student's (an honest worker never sends one)."""
    SANDBOX_ERROR = "sandbox_error"
    """The sandbox could not be started or forked, or failed before any student code ran: never the student's."""


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str = ""
    """What happened, for every status but OK, in words the grader can show (already made safe)."""
    reply: Returned | Raised | None = None

    @property
    def students(self) -> bool:
        """Whether what happened is the student code's doing (every status but :attr:`Status.SANDBOX_ERROR`)."""
        return self.status is not Status.SANDBOX_ERROR

    @property
    def ended_worker(self) -> bool:
        """Whether the worker was lost with this call (the next one starts a fresh worker)."""
        return self.status not in (Status.OK, Status.STUDENT_ERROR)
