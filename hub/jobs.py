"""Durable jobs on the hub's own database (a transactional outbox).

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

import json
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient

Statement = tuple[str, list[Any]]

if TYPE_CHECKING:
    from hub.context import JobContext
    from hub.db import Database

AVAILABLE = "available"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"


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

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class JobQueue:
    """The job table's statements, for one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        returning = "RETURNING id, kind, payload, attempt, max_attempts, business"
        pick = (
            "SELECT id FROM hub_job WHERE state = 'available' AND run_at_ms <= ?"
            " ORDER BY priority DESC, run_at_ms, id LIMIT ?"
        )
        if db.dialect == "postgres":
            pick += " FOR UPDATE SKIP LOCKED"
        claim_set = (
            "UPDATE hub_job SET state = 'running', locked_by = ?, attempt = attempt + 1,"
            " locked_until_ms = ?"
        )
        self._claim_sql = db.sql(f"{claim_set} WHERE id IN ({pick}) {returning}")
        self._claim_ids_sql = (
            f"{claim_set} WHERE state = 'available' AND run_at_ms <= ?"
            f" AND id IN ({{ids}}) {returning}"
        )

    @property
    def connection(self) -> BaseDBAsyncClient:
        return self.db.connection

    def insert(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        now_ms: int,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
        business: str | None = None,
        max_attempts: int = 10,
        priority: int = 0,
        claim_for: tuple[str, int] | None = None,
    ) -> Statement:
        """The statement that inserts a job (see ``enqueue``); its rows are ``[{"id": ...}]``,
        or none when a live job already holds ``dedupe_key``."""
        state, locked_by, locked_until, attempt = "available", None, None, 0
        if claim_for is not None:
            state, (locked_by, locked_until), attempt = "running", claim_for, 1
        return (
            "INSERT INTO hub_job (kind, payload, state, business, dedupe_key, key, priority,"
            " attempt, max_attempts, run_at_ms, created_at_ms, locked_by, locked_until_ms)"
            f" VALUES (?, {self.db.json()}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            [
                kind,
                json.dumps(payload, separators=(",", ":")),
                state,
                business,
                dedupe_key,
                dedupe_key,
                priority,
                attempt,
                max_attempts,
                now_ms if run_at_ms is None else run_at_ms,
                now_ms,
                locked_by,
                locked_until,
            ],
        )

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        now_ms: int,
        using: BaseDBAsyncClient | None = None,
        **options: Any,
    ) -> int | None:
        """Insert a job; pass the transaction as ``using`` to make it part of it.

        ``claim_for=(worker_id, locked_until_ms)`` inserts it already claimed by that worker,
        attempt 1: the process that commits a job runs it without a claim statement, and if it
        dies the lease runs out and another worker rescues the job like any other.

        Returns the new job's id, or ``None`` when a live job already holds ``dedupe_key``.
        """
        statement, values = self.insert(kind, payload, now_ms=now_ms, **options)
        rows = await (using or self.connection).execute_query_dict(self.db.sql(statement), values)
        return int(rows[0]["id"]) if rows else None

    def complete_statement(self, job: ClaimedJob, *, now_ms: int) -> Statement:
        """``complete`` as a statement for a script; a row comes back if it took effect."""
        return (
            "UPDATE hub_job SET state = 'completed', finished_at_ms = ?, dedupe_key = NULL,"
            " locked_by = NULL, locked_until_ms = NULL"
            " WHERE id = ? AND locked_by = ? AND attempt = ? AND state = 'running' RETURNING id",
            [now_ms, job.id, job.locked_by, job.attempt],
        )

    async def claim(
        self, worker_id: str, limit: int, *, now_ms: int, locked_until_ms: int
    ) -> list[ClaimedJob]:
        """Claim up to ``limit`` jobs due at ``now_ms``, highest priority and oldest first,
        leased until ``locked_until_ms`` (wall-clock time: see ``rescue``)."""
        rows = await self.connection.execute_query_dict(
            self._claim_sql, [worker_id, locked_until_ms, now_ms, limit]
        )
        return [self._claimed(row, worker_id) for row in rows]

    async def claim_ids(
        self, worker_id: str, ids: Sequence[int], *, now_ms: int, locked_until_ms: int
    ) -> list[ClaimedJob]:
        """Claim these jobs if they are still available and due: the hand-off from the process
        that just committed them, with no polling delay."""
        if not ids:
            return []
        statement = self.db.sql(self._claim_ids_sql.format(ids=", ".join("?" * len(ids))))
        rows = await self.connection.execute_query_dict(
            statement, [worker_id, locked_until_ms, now_ms, *ids]
        )
        return [self._claimed(row, worker_id) for row in rows]

    @staticmethod
    def _claimed(row: dict[str, Any], worker_id: str) -> ClaimedJob:
        payload = row["payload"]
        if isinstance(payload, (str, bytes)):
            payload = json.loads(payload)
        return ClaimedJob(
            id=int(row["id"]),
            kind=row["kind"],
            payload=payload,
            attempt=int(row["attempt"]),
            max_attempts=int(row["max_attempts"]),
            business=row["business"],
            locked_by=worker_id,
        )

    async def complete(
        self, job: ClaimedJob, *, now_ms: int, using: BaseDBAsyncClient | None = None
    ) -> bool:
        """Mark done. ``False`` means the lease was lost: another worker owns the job now.

        A handler may pass its last transaction as ``using``, so the job's outcome and its
        completion commit together (one commit instead of two).
        """
        done = await self._finish(
            job,
            "state = 'completed', finished_at_ms = ?, dedupe_key = NULL, locked_by = NULL,"
            " locked_until_ms = NULL",
            [now_ms],
            using=using,
        )
        job.completed = job.completed or (done and using is not None)
        return done

    async def retry(
        self, job: ClaimedJob, error: str, *, run_at_ms: int, now_ms: int, snooze: bool = False
    ) -> bool:
        """Schedule another attempt. A snooze (a rate limit, say) does not use up an attempt."""
        if not snooze and job.attempt >= job.max_attempts:
            return await self.fail(
                job, f"{error} (gave up after {job.attempt} attempts)", now_ms=now_ms
            )
        attempt = "attempt = attempt - 1, " if snooze else ""
        return await self._finish(
            job,
            f"state = 'available', {attempt}run_at_ms = ?, last_error = ?, locked_by = NULL,"
            " locked_until_ms = NULL",
            [run_at_ms, error[:2000]],
        )

    async def fail(self, job: ClaimedJob, error: str, *, now_ms: int) -> bool:
        return await self._finish(
            job,
            "state = 'failed', finished_at_ms = ?, last_error = ?, dedupe_key = NULL,"
            " locked_by = NULL, locked_until_ms = NULL",
            [now_ms, error[:2000]],
        )

    async def _finish(
        self,
        job: ClaimedJob,
        assignments: str,
        values: list[Any],
        using: BaseDBAsyncClient | None = None,
    ) -> bool:
        statement = self.db.sql(
            f"UPDATE hub_job SET {assignments}"
            " WHERE id = ? AND locked_by = ? AND attempt = ? AND state = 'running'"
        )
        count, _ = await (using or self.connection).execute_query(
            statement, [*values, job.id, job.locked_by, job.attempt]
        )
        return bool(count)

    async def extend_leases(self, worker_id: str, ids: Iterable[int], *, until_ms: int) -> None:
        ids = list(ids)
        if not ids:
            return
        statement = self.db.sql(
            "UPDATE hub_job SET locked_until_ms = ?"
            f" WHERE locked_by = ? AND state = 'running' AND id IN ({', '.join('?' * len(ids))})"
        )
        await self.connection.execute_query(statement, [until_ms, worker_id, *ids])

    async def rescue(self, *, now_ms: int) -> int:
        """Return jobs whose lease expired (their worker died or hung) to the queue, or fail
        those out of attempts. Returns how many were rescued.

        Leases are about whether a worker is alive, so ``now_ms`` here is wall-clock time, while
        ``run_at_ms`` follows the hub's clock (which tests move by hours at a time)."""
        statement = self.db.sql(
            "UPDATE hub_job SET"
            " state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'available' END,"
            " dedupe_key = CASE WHEN attempt >= max_attempts THEN NULL ELSE dedupe_key END,"
            " finished_at_ms ="
            " CASE WHEN attempt >= max_attempts THEN CAST(? AS BIGINT) ELSE NULL END,"
            " last_error = 'lease expired: the worker running it stopped or hung',"
            " run_at_ms = ?, locked_by = NULL, locked_until_ms = NULL"
            " WHERE state = 'running' AND locked_until_ms < ?"
        )
        count, _ = await self.connection.execute_query(statement, [now_ms, now_ms, now_ms])
        return int(count)

    async def cancel(
        self, keys: Iterable[str], *, now_ms: int, using: BaseDBAsyncClient | None = None
    ) -> int:
        """Cancel jobs waiting under these dedupe keys. Running jobs are left to finish."""
        keys = list(keys)
        if not keys:
            return 0
        statement = self.db.sql(
            "UPDATE hub_job SET state = 'cancelled', dedupe_key = NULL, finished_at_ms = ?"
            f" WHERE state = 'available' AND dedupe_key IN ({', '.join('?' * len(keys))})"
        )
        count, _ = await (using or self.connection).execute_query(statement, [now_ms, *keys])
        return int(count)
