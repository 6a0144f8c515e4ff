"""The job table's statements (see ``hub.jobs`` for the model).

Workers claim jobs with one ``UPDATE ... RETURNING`` statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite the single writer makes it atomic), hold a lease while they run them, and
finish them with a statement fenced on ``(locked_by, attempt)``: a worker whose lease expired and
whose job was rescued and re-claimed updates nothing when it finally returns.

States: ``available`` (due at ``run_at_ms``) → ``running`` → ``completed``, or back to
``available`` with a backoff delay, or ``failed`` (kept for operators) once attempts run out or
the handler says so; ``cancelled`` by key before it ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.clock import Clock
from hub.jobs import ClaimedJob, JobKind
from hub.store.sql import Handover, JobInsert, Script, Sql
from hub.store.step import Step

if TYPE_CHECKING:
    from hub.store.db import Database

_RETURNING = "RETURNING id, kind, payload, attempt, max_attempts, business"
_CLAIM_SET = (
    "UPDATE hub_job SET state = 'running', locked_by = {}, attempt = attempt + 1,"
    " locked_until_ms = {}"
)
# Lists of ids or keys are one value: a JSON array on SQLite, an array on PostgreSQL.
_IDS = "IN (SELECT value FROM json_each({}))"
_PG_IDS = "= ANY(CAST({} AS BIGINT[]))"
_PG_KEYS = "= ANY(CAST({} AS TEXT[]))"
_PICK = (
    "SELECT id FROM hub_job WHERE state = 'available' AND run_at_ms <= {} AND kind {kinds}"
    " ORDER BY priority DESC, run_at_ms, id LIMIT {}"
)
CLAIM = Sql(
    f"{_CLAIM_SET} WHERE id IN ({_PICK.replace('{kinds}', _IDS)}) {_RETURNING}",
    postgres=f"{_CLAIM_SET} WHERE id IN ({_PICK.replace('{kinds}', _PG_KEYS)}"
    f" FOR UPDATE SKIP LOCKED) {_RETURNING}",
)
CLAIM_IDS = Sql(
    f"{_CLAIM_SET} WHERE state = 'available' AND run_at_ms <= {{}} AND id {_IDS} {_RETURNING}",
    postgres=f"{_CLAIM_SET} WHERE state = 'available' AND run_at_ms <= {{}} AND id {_PG_IDS}"
    f" {_RETURNING}",
)
INSERT = Sql(
    "INSERT INTO hub_job (kind, payload, state, business, dedupe_key, key, priority,"
    " attempt, max_attempts, run_at_ms, created_at_ms, locked_by, locked_until_ms)"
    " VALUES ({}, {json}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)
_FENCE = " WHERE id = {} AND locked_by = {} AND attempt = {} AND state = 'running'"
COMPLETE = Sql(
    "UPDATE hub_job SET state = 'completed', finished_at_ms = {}, dedupe_key = NULL,"
    " locked_by = NULL, locked_until_ms = NULL" + _FENCE + " RETURNING id"
)
RETRY = Sql(
    "UPDATE hub_job SET state = 'available', run_at_ms = {}, last_error = {}, locked_by = NULL,"
    " locked_until_ms = NULL" + _FENCE
)
SNOOZE = Sql(
    "UPDATE hub_job SET state = 'available', attempt = attempt - 1, run_at_ms = {},"
    " last_error = {}, locked_by = NULL, locked_until_ms = NULL" + _FENCE
)
FAIL = Sql(
    "UPDATE hub_job SET state = 'failed', finished_at_ms = {}, last_error = {}, dedupe_key = NULL,"
    " locked_by = NULL, locked_until_ms = NULL" + _FENCE
)
EXTEND = Sql(
    f"UPDATE hub_job SET locked_until_ms = {{}} WHERE locked_by = {{}} AND state = 'running'"
    f" AND id {_IDS}",
    postgres="UPDATE hub_job SET locked_until_ms = {} WHERE locked_by = {} AND state = 'running'"
    f" AND id {_PG_IDS}",
)
_EXPIRED = "lease expired: the worker running it stopped or hung"
#: Jobs out of attempts whose worker died fail, and come back so that their kind hears it (one
#: worker gets each row: the update is the claim); the others go back to the queue.
RESCUE_FAILED = Sql(
    "UPDATE hub_job SET state = 'failed', dedupe_key = NULL, finished_at_ms = {},"
    f" last_error = '{_EXPIRED}', locked_by = NULL, locked_until_ms = NULL"
    f" WHERE state = 'running' AND locked_until_ms < {{}} AND attempt >= max_attempts {_RETURNING}"
)
RESCUE = Sql(
    f"UPDATE hub_job SET state = 'available', last_error = '{_EXPIRED}',"
    " run_at_ms = {}, locked_by = NULL, locked_until_ms = NULL"
    " WHERE state = 'running' AND locked_until_ms < {} AND attempt < max_attempts"
)
CANCEL = Sql(
    "UPDATE hub_job SET state = 'cancelled', dedupe_key = NULL, finished_at_ms = {}"
    f" WHERE state = 'available' AND dedupe_key {_IDS} RETURNING id",
    postgres="UPDATE hub_job SET state = 'cancelled', dedupe_key = NULL, finished_at_ms = {}"
    f" WHERE state = 'available' AND dedupe_key {_PG_KEYS} RETURNING id",
)


#: Leases renewed per statement.
LEASE_BATCH = 2000


class JobQueue:
    """The job table, for one database. ``kinds`` gives each kind its retry limit;
    ``claimer`` (set while this process runs a worker) claims new due jobs for it at insert."""

    def __init__(
        self, db: Database, clock: Clock, kinds: Mapping[str, JobKind] | None = None
    ) -> None:
        self.db = db
        self.dialect = db.dialect
        self.clock = clock
        self.kinds: Mapping[str, JobKind] = kinds if kinds is not None else {}
        self.claimer: Callable[[], tuple[str, int]] | None = None

    def _list(self, values: Iterable[Any]) -> Any:
        values = list(values)
        return values if self.dialect == "postgres" else json.dumps(values)

    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
        business: str | None = None,
        max_attempts: int | None = None,
        priority: int = 0,
        now_ms: int | None = None,
    ) -> Step[int | None]:
        """Queue a job: ``await`` it alone, or ``yield from`` it in a script so the job commits
        with the data that caused it. Its retry limit comes from the registered kind.

        A job due now, in a process that runs a worker, is inserted already claimed by that
        worker (attempt 1), which runs it as soon as the unit of work commits, without a claim
        statement; if the process dies, the lease runs out and another worker rescues it.

        The new job's id, or ``None`` when a live job already holds ``dedupe_key``.
        """
        return Step(
            self.db.run,
            self._enqueue(
                kind, payload, run_at_ms, dedupe_key, business, max_attempts, priority, now_ms
            ),
        )

    def _enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        run_at_ms: int | None,
        dedupe_key: str | None,
        business: str | None,
        max_attempts: int | None,
        priority: int,
        now_ms: int | None,
    ) -> Script[int | None]:
        if max_attempts is None:
            registered = self.kinds.get(kind)
            max_attempts = registered.max_attempts if registered else 10
        now_ms = self.clock.now_ms() if now_ms is None else now_ms
        due = now_ms if run_at_ms is None else run_at_ms
        claim = self.claimer() if self.claimer is not None and due <= now_ms else None
        state, locked_by, locked_until, attempt = "available", None, None, 0
        claimed = None
        if claim is not None:
            state, (locked_by, locked_until), attempt = "running", claim, 1
            claimed = ClaimedJob(0, kind, payload, 1, max_attempts, business, locked_by)
        statement = INSERT.bind(
            self.dialect,
            kind,
            json.dumps(payload, separators=(",", ":")),
            state,
            business,
            dedupe_key,
            dedupe_key,
            priority,
            attempt,
            max_attempts,
            due,
            now_ms,
            locked_by,
            locked_until,
        )
        rows = yield JobInsert(statement, Handover(claimed, due))
        return int(rows[0]["id"]) if rows else None

    def complete(self, job: ClaimedJob, *, now_ms: int) -> Step[bool]:
        """Mark done: ``await`` alone, or ``yield from`` in the handler's last unit of work so
        the job's outcome and its completion commit together. ``False`` means the lease was
        lost: another worker owns the job now."""
        return Step(self.db.run, self._complete(job, now_ms))

    def _complete(self, job: ClaimedJob, now_ms: int) -> Script[bool]:
        rows = yield COMPLETE.bind(self.dialect, now_ms, job.id, job.locked_by, job.attempt)
        job.completed = job.completed or bool(rows)
        return bool(rows)

    def cancel(self, keys: Iterable[str], *, now_ms: int | None = None) -> Step[int]:
        """Cancel jobs waiting under these dedupe keys (running jobs are left to finish): alone
        or as part of a script. How many were cancelled."""
        return Step(self.db.run, self._cancel(list(keys), now_ms))

    def _cancel(self, keys: list[str], now_ms: int | None) -> Script[int]:
        if not keys:
            return 0
        now_ms = self.clock.now_ms() if now_ms is None else now_ms
        rows = yield CANCEL.bind(self.dialect, now_ms, self._list(keys))
        return len(rows)

    async def claim(
        self,
        worker_id: str,
        limit: int,
        *,
        now_ms: int,
        locked_until_ms: int,
        kinds: Sequence[str] | None = None,
    ) -> list[ClaimedJob]:
        """Claim up to ``limit`` jobs of ``kinds`` (default: every kind this queue knows) due
        at ``now_ms``, highest priority and oldest first, leased until ``locked_until_ms``
        (wall-clock time: see ``rescue``)."""
        names = self._list(sorted(self.kinds if kinds is None else kinds))
        rows = await self.db.fetch(
            CLAIM.bind(self.dialect, worker_id, locked_until_ms, now_ms, names, limit)
        )
        return [self._claimed(row, worker_id) for row in rows]

    async def claim_ids(
        self, worker_id: str, ids: Sequence[int], *, now_ms: int, locked_until_ms: int
    ) -> list[ClaimedJob]:
        """Claim these jobs if they are still available and due: the hand-off from the process
        that just committed them, with no polling delay."""
        if not ids:
            return []
        rows = await self.db.fetch(
            CLAIM_IDS.bind(self.dialect, worker_id, locked_until_ms, now_ms, self._list(ids))
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

    async def retry(
        self, job: ClaimedJob, error: str, *, run_at_ms: int, now_ms: int, snooze: bool = False
    ) -> bool:
        """Schedule another attempt. A snooze (a rate limit, say) does not use up an attempt."""
        if not snooze and job.attempt >= job.max_attempts:
            return await self.fail(
                job, f"{error} (gave up after {job.attempt} attempts)", now_ms=now_ms
            )
        statement = (SNOOZE if snooze else RETRY).bind(
            self.dialect, run_at_ms, error[:2000], job.id, job.locked_by, job.attempt
        )
        return bool(await self.db.execute(statement))

    async def fail(self, job: ClaimedJob, error: str, *, now_ms: int) -> bool:
        statement = FAIL.bind(
            self.dialect, now_ms, error[:2000], job.id, job.locked_by, job.attempt
        )
        return bool(await self.db.execute(statement))

    async def extend_leases(self, worker_id: str, ids: Iterable[int], *, until_ms: int) -> None:
        """Renew these jobs' leases, in batches: a worker holding a big backlog (a slow
        provider) renews all of it without one statement growing with the backlog."""
        ids = list(ids)
        for start in range(0, len(ids), LEASE_BATCH):
            batch = self._list(ids[start : start + LEASE_BATCH])
            await self.db.execute(EXTEND.bind(self.dialect, until_ms, worker_id, batch))

    async def prune(self, *, before_ms: int) -> int:
        """Delete finished jobs older than ``before_ms`` (hub clock), a bounded number per
        call: see ``prune``."""
        return await prune(self.db, before_ms=before_ms)

    async def rescue(self, *, now_ms: int) -> int:
        """Return jobs whose lease expired (their worker died or hung) to the queue, or fail
        those out of attempts. Returns how many were rescued."""
        returned, failed = await self.rescue_and_fail(now_ms=now_ms)
        return returned + len(failed)

    async def rescue_and_fail(self, *, now_ms: int) -> tuple[int, list[ClaimedJob]]:
        """``rescue``, saying which jobs failed for good (their kind should hear it).

        Leases are about whether a worker is alive, so ``now_ms`` here is wall-clock time, while
        ``run_at_ms`` follows the hub's clock (which tests move by hours at a time)."""
        rows = await self.db.fetch(RESCUE_FAILED.bind(self.dialect, now_ms, now_ms))
        failed = [self._claimed(row, "") for row in rows]
        returned = await self.db.execute(RESCUE.bind(self.dialect, now_ms, now_ms))
        return returned, failed


# -- for operators (`hub jobs`) and pruning --------------------------------------------------------

#: Finished states: a job in one is never run again unless an operator retries it.
FINISHED = ("completed", "failed", "cancelled")

_LIST = (
    "SELECT id, kind, state, business, attempt, max_attempts, run_at_ms, created_at_ms,"
    " finished_at_ms, last_error FROM hub_job"
)
RETRY_ONE = Sql(
    # A key another live job took meanwhile stays with that job: the retried one runs unkeyed.
    "UPDATE hub_job SET state = 'available', attempt = 0, run_at_ms = {}, finished_at_ms = NULL,"
    " locked_by = NULL, locked_until_ms = NULL,"
    " dedupe_key = CASE WHEN key IS NULL OR EXISTS (SELECT 1 FROM hub_job AS live"
    " WHERE live.dedupe_key = hub_job.key) THEN NULL ELSE key END"
    " WHERE id = {} AND state IN ('failed', 'cancelled') RETURNING id"
)
CANCEL_ONE = Sql(
    "UPDATE hub_job SET state = 'cancelled', dedupe_key = NULL, finished_at_ms = {},"
    " locked_by = NULL, locked_until_ms = NULL"
    " WHERE id = {} AND state IN ('available', 'failed') RETURNING id"
)
PRUNE = Sql(
    "DELETE FROM hub_job WHERE id IN (SELECT id FROM hub_job"
    " WHERE state IN ('completed', 'failed', 'cancelled') AND finished_at_ms < {} LIMIT {})"
)


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as an operator sees it (``hub jobs list``): never its payload, which holds
    customers' words."""

    id: int
    kind: str
    state: str
    business: str | None
    attempt: int
    max_attempts: int
    run_at_ms: int
    created_at_ms: int
    finished_at_ms: int | None
    last_error: str | None


async def list_jobs(
    db: Database,
    *,
    states: Sequence[str] = (),
    kind: str | None = None,
    business: str | None = None,
    limit: int = 50,
) -> list[JobRow]:
    """Jobs, newest first, filtered by state, kind and business."""
    where: list[str] = []
    values: list[Any] = []
    if states:
        where.append(f"state IN ({', '.join('{}' for _ in states)})")
        values += list(states)
    if kind is not None:
        where.append("kind = {}")
        values.append(kind)
    if business is not None:
        where.append("business = {}")
        values.append(business)
    text = _LIST + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC LIMIT {}"
    rows = await db.fetch(Sql(text).bind(db.dialect, *values, limit))
    return [
        JobRow(
            id=int(row["id"]),
            kind=row["kind"],
            state=row["state"],
            business=row["business"],
            attempt=int(row["attempt"]),
            max_attempts=int(row["max_attempts"]),
            run_at_ms=int(row["run_at_ms"]),
            created_at_ms=int(row["created_at_ms"]),
            finished_at_ms=None if row["finished_at_ms"] is None else int(row["finished_at_ms"]),
            last_error=row["last_error"],
        )
        for row in rows
    ]


async def retry_job(db: Database, job_id: int, *, now_ms: int) -> bool:
    """Put a failed (or cancelled) job back in the queue, due now, with all its attempts.
    ``False`` when there is no such job in either state."""
    return bool(await db.fetch(RETRY_ONE.bind(db.dialect, now_ms, job_id)))


async def cancel_job(db: Database, job_id: int, *, now_ms: int) -> bool:
    """Cancel a job waiting to run, or dismiss a failed one from the dead letters. ``False``
    when it is running, already completed or cancelled, or there is no such job."""
    return bool(await db.fetch(CANCEL_ONE.bind(db.dialect, now_ms, job_id)))


async def prune(db: Database, *, before_ms: int, batch: int = 1000, batches: int = 10) -> int:
    """Delete finished jobs (completed, failed, cancelled) that finished before ``before_ms``,
    ``batch`` rows per statement and at most ``batches`` statements, so one call never holds
    the database long; the next call takes the rest. How many were deleted."""
    deleted = 0
    for _ in range(batches):
        count = await db.execute(PRUNE.bind(db.dialect, before_ms, batch))
        deleted += count
        if count < batch:
            break
    return deleted
