"""Durable jobs on the hub's own database (a transactional outbox): the kinds, the claimed job a
handler gets, and how a handler says how it went. The job table's statements are in
``hub.store.jobs``.

A job row is inserted in the same transaction as the data that caused it, so a webhook that
was acknowledged has its work on disk. Workers claim jobs with one ``UPDATE ... RETURNING``
statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the single writer makes it
atomic), hold a lease while they run them, and finish them with a statement fenced on
``(locked_by, attempt)``: a worker whose lease expired and whose job was rescued and re-claimed
updates nothing when it finally returns.

States: ``available`` (due at ``run_at_ms``) → ``running`` → ``completed``, or back to
``available`` with a backoff delay, or ``failed`` (kept for operators) once attempts run out or
the handler says so; ``cancelled`` by key before it ran.

Modelled on Oban, River and Solid Queue (see ``storage-and-jobs.md``); River's missing fence is
the reason for ``attempt`` in every finishing statement.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.context import JobContext

AVAILABLE = "available"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"

#: A job kind's ``deadline`` unless it names one (seconds): twice the longest timeout a
#: provider's settings allow (60 s).
DEFAULT_DEADLINE = 120.0


class Retry(Exception):
    """Raise from a job handler to try again later (``after`` seconds, else the backoff)."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Snooze(Exception):
    """Raise from a job handler to run it again at ``until`` without using up an attempt
    (quiet hours, a rate limit): waiting is not failing."""

    def __init__(self, reason: str, *, until_ms: int) -> None:
        super().__init__(reason)
        self.until_ms = until_ms


class Discard(Exception):
    """Raise from a job handler to stop trying: the job ends ``failed`` with this reason."""


@dataclass(slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    business: str | None
    locked_by: str
    #: Set when the handler completed the job inside its own last transaction.
    completed: bool = False


#: ``handler(context, job)``: what a job kind runs (see ``hub.JobContext``).
JobHandler = Callable[["JobContext", ClaimedJob], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job and how it is retried: ``min(cap, base * 2**(attempt-1))``, with full
    jitter, until ``max_attempts``."""

    name: str
    handler: JobHandler
    max_attempts: int = 10
    backoff_base: float = 2.0
    backoff_cap: float = 3600.0
    #: Jobs of one pool share its slots in a worker (``worker.concurrency``). The core's sink
    #: deliveries run in a pool of their own (``worker.delivery_concurrency``), so a slow or
    #: failing service never holds up a text.
    pool: str = "jobs"
    #: A payload field naming a lane (with the job's business): a worker runs at most a quarter
    #: of its pool's slots for one lane at once, so one slow lane (a sink whose service takes
    #: seconds) cannot take every slot from the others. ``None``: no lanes.
    lane: str | None = None
    #: Seconds a run of this job may take. Past it the worker cancels the run, logs it and
    #: schedules a retry, and stops renewing its lease even if the handler ignores the
    #: cancellation (another worker rescues it then): no handler, and no plugin it calls,
    #: can hold a worker slot or a job for longer. Keep it well above the timeouts of what the
    #: handler waits on.
    deadline: float = DEFAULT_DEADLINE
    #: Called once a job of this kind has failed for good because its attempts ran out
    #: (``(job, last error)``; not for ``Discard``, which is the handler's own decision): the
    #: core's texts tell the owner, since a text-back that never went out is a lead lost.
    on_give_up: Callable[[ClaimedJob, str], Awaitable[None]] | None = None

    def backoff(self, attempt: int) -> float:
        ceiling = self._ceiling(attempt)
        return random.uniform(ceiling / 2, ceiling)

    def _ceiling(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempt - 1)))

    def horizon(self) -> tuple[float, float]:
        """The shortest and longest time, in seconds, from a job's first attempt to its last
        (the backoffs between them; not the runs themselves)."""
        ceilings = [self._ceiling(attempt) for attempt in range(1, self.max_attempts)]
        return sum(ceilings) / 2, sum(ceilings)
