"""Grading every student of a class in parallel with the engine of ``grader run``: same sandbox, same results.

Each grading process imports torch and the grader once and then grades submission after submission; one
submission that is broken, hangs or attacks the grader costs only its own grade. Outcomes are handed to
``on_outcome`` as they complete, so an interrupted batch keeps everything graded so far.
"""

from __future__ import annotations

import atexit
import functools
import gc
import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from pydantic import BaseModel, Field

from grader.batch.archives import ArchiveError
from grader.batch.discover import Entry, prepare
from grader.batch.outcome import Outcome
from grader.limits import Limits
from grader.spec import Course, SpecError, default_course


class BatchSettings(BaseModel):
    """What every submission of a batch is graded with; sent to each grading process."""

    course: Path | None = Field(None, description="the course folder; default: the installed checkout")
    expected: list[str] = Field(description="the assignments every submission is graded for")
    fingerprint: str = Field(description="what the grades are made of (grader.fingerprint.course_fingerprint)")
    attempt_seed: str | None = Field(
        None,
        description="the seed of this run's hidden inputs: a batch is one attempt for the whole class, every student "
        "on the same inputs (so each grading process computes the reference's results once), and the next batch "
        "draws new ones; None: each submission an attempt of its own",
    )
    time_limit: float | None = Field(None, description="wall time per test, instead of each assignment's own")
    limits: Limits = Field(default_factory=Limits)


def grade_entry(entry: Entry, source_hash: str, settings: BatchSettings) -> Outcome:
    """One student's outcome; never raises for anything the submission does."""
    from grader.engine import SubmissionError, grade_submission  # here: the parent process never needs torch

    start = time.perf_counter()

    def outcome(**fields: object) -> Outcome:
        return Outcome(
            student=entry.student,
            source=str(entry.source),
            content_hash=source_hash,
            duration=time.perf_counter() - start,
            expected=settings.expected,
            fingerprint=settings.fingerprint,
            **fields,
        )

    try:
        course = Course(settings.course) if settings.course else default_course()
        with tempfile.TemporaryDirectory(prefix="grader-batch-") as work:
            prepared = prepare(entry, Path(work), settings.expected)
            report = grade_submission(
                prepared.folder,
                course,
                settings.expected,
                "hidden",
                settings.limits,
                settings.time_limit,
                refused=prepared.refused,
                attempt=settings.attempt_seed,
            )
            report.notes += prepared.notes
    except (ArchiveError, SubmissionError, SpecError) as error:
        return outcome(status="error", reason=str(error))
    except Exception as error:  # the grader failing on one submission must not end the batch
        return outcome(
            status="error",
            reason=f"the grader failed on this submission (not the student's fault): {type(error).__name__}",
            course_errors=["".join(traceback.format_exception(type(error), error, error.__traceback__))],
        )
    report.submission = entry.student
    freeze_caches()
    status = "incomplete" if report.incomplete else "graded"
    return outcome(status=status, report=report, course_errors=report.course_errors)


@functools.cache
def freeze_caches() -> None:
    """Once per grading process, after its first submission: by then its caches (the collected tests, the
    reference's results, the mutants) hold most of what it will keep, so they are moved out of the cyclic garbage
    collector's sight and later collections stop walking them (4 ms of every submission's grading before)."""
    gc.collect()
    gc.freeze()


def warm_up() -> None:
    """Run once in each grading process: pay for the imports before the first submission."""
    import grader.engine  # noqa: F401


def start_local_process() -> None:
    """The initializer of a local grading process: it ends with the batch (:func:`die_with_batch`), :func:`warm_up`,
    and an exit that skips the interpreter's teardown."""
    die_with_batch()
    atexit.register(exit_at_once)
    warm_up()


def die_with_batch() -> None:
    """Be killed when the ``grader batch`` process ends, however it ends: a batch killed (``SIGTERM``, ``SIGKILL``)
    left its grading processes running, each with its sandbox. On Linux only; elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    from grader.sandbox.inside.zygote import die_with_parent  # here: it imports torch, which the batch never needs

    parent = multiprocessing.parent_process()
    die_with_parent()
    if parent is not None and os.getppid() != parent.pid:  # the batch ended before the line above
        os._exit(1)


def exit_at_once() -> None:
    """Close this process's sandboxes and end it without tearing down torch's modules, which took 0.6 s that the
    batch (joining its processes before it exits) waited for. Only the pool's own processes do this; a Dask worker
    is not ours to end."""
    from grader.sandbox.zygote_client import ZYGOTES

    ZYGOTES.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def failed_outcome(entry: Entry, source_hash: str, settings: BatchSettings, error: BaseException) -> Outcome:
    return Outcome(
        student=entry.student,
        source=str(entry.source),
        content_hash=source_hash,
        status="error",
        reason=f"the grading process failed (not the student's fault): {type(error).__name__}: {error}",
        expected=settings.expected,
        fingerprint=settings.fingerprint,
    )


def run_local(
    work: Iterable[tuple[Entry, str]], settings: BatchSettings, jobs: int, on_outcome: Callable[[Outcome], None]
) -> None:
    """Grade on this machine with ``jobs`` grading processes. Once every outcome is in, the processes are told to
    exit, and the caller goes on while they do."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=start_local_process)
    try:
        futures: dict[Future[Outcome], tuple[Entry, str]] = {
            pool.submit(grade_entry, entry, digest, settings): (entry, digest) for entry, digest in work
        }
        for future in as_completed(futures):
            try:
                on_outcome(future.result())
            except Exception as error:
                on_outcome(failed_outcome(*futures[future], settings, error))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_dask(
    work: Iterable[tuple[Entry, str]], settings: BatchSettings, address: str, on_outcome: Callable[[Outcome], None]
) -> None:
    """Grade on the Dask cluster at ``address``; the submissions and the course must be on a shared filesystem."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(address) as client:
        client.run(warm_up)
        pending = list(work)
        futures = {
            client.submit(grade_entry, entry, digest, settings, pure=False): (entry, digest)
            for entry, digest in pending
        }
        for future in dask_completed(futures):
            try:
                on_outcome(future.result())
            except Exception as error:
                on_outcome(failed_outcome(*futures[future], settings, error))
