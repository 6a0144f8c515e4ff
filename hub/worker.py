"""The loop that runs durable jobs: inside ``hub serve``, or alone as ``hub worker``.

Two ways a job reaches a worker. The process that committed it hands its id straight over
(``notify``), so a text-back starts within a millisecond of the webhook's commit; and every
``poll_interval`` the worker claims whatever is due, which picks up retries, delayed jobs and
jobs committed by other processes. Leases are extended while jobs run, and jobs whose worker
died are rescued once their lease expires.

Every run is bounded by its kind's ``deadline``: past it the run is cancelled and retried, and
its lease is no longer renewed, so a handler stuck on a provider that never answers (or one
that ignores cancellation) cannot hold a slot, or its job, for longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import Counter

from hub.clock import Clock
from hub.context import JobContext
from hub.jobs import DEFAULT_DEADLINE, ClaimedJob, Discard, JobKind, Retry, Snooze
from hub.store.jobs import JobQueue

log = logging.getLogger("hub.worker")


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        kinds: Mapping[str, JobKind],
        clock: Clock,
        *,
        concurrency: int = 8,
        pools: Mapping[str, int] | None = None,
        poll_interval: float = 1.0,
        lease: float = 60.0,
        rescue_interval: float = 15.0,
        keep_finished: float = 14 * 86400.0,
        prune_interval: float = 300.0,
        context_for: Callable[[str], JobContext],
        failures: Counter | None = None,
    ) -> None:
        self.queue = queue
        self.kinds = kinds
        self.clock = clock
        #: What a handler of a kind gets as its first argument.
        self.context_for = context_for
        self.id = f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        #: Slots per pool (``JobKind.pool``); a pool not named gets ``concurrency``.
        self.pools = {"jobs": concurrency, **(pools or {})}
        self.concurrency = sum(self.pools.values())
        self.poll_interval = poll_interval
        self.lease_ms = int(lease * 1000)
        self.rescue_interval_ms = int(rescue_interval * 1000)
        #: Finished jobs older than this (seconds, hub clock) are deleted every
        #: ``prune_interval`` (wall clock), a bounded batch at a time.
        self.keep_finished_ms = int(keep_finished * 1000)
        self.prune_interval_ms = int(prune_interval * 1000)
        self._next_prune_ms = 0
        self._wake = asyncio.Event()
        self._handoff: list[int] = []
        self._adopted: list[ClaimedJob] = []
        self._running: dict[int, asyncio.Task[None]] = {}
        self._pool_of: dict[int, str] = {}
        self._lane_of: dict[int, str] = {}
        #: When each running job passes its kind's deadline (``time.monotonic``).
        self._deadline_of: dict[int, float] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._next_rescue_ms = 0
        self.completed = 0
        #: Counts jobs that failed for good, by kind (``hub.metrics``).
        self.failures = failures

    # -- feeding ----------------------------------------------------------------------------------

    def notify(self, job_ids: Iterable[int], *, run_at_ms: int | None = None) -> None:
        """Jobs this process just committed: claim them now, or when they come due."""
        ids = list(job_ids)
        if not ids:
            return
        delay = 0.0 if run_at_ms is None else (run_at_ms - self.clock.now_ms()) / 1000
        if delay > 0:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(delay + 0.001, self._hand_over, ids)
            self._timers.add(handle)
            return
        self._hand_over(ids)

    def _hand_over(self, ids: list[int]) -> None:
        self._handoff.extend(ids)
        self._wake.set()

    def lease_for_new_job(self) -> tuple[str, int]:
        """The claim a job inserted by this process gets: this worker, a fresh lease."""
        return self.id, _wall_ms() + self.lease_ms

    def adopt(self, job: ClaimedJob) -> None:
        """Run a job this process inserted already claimed (``lease_for_new_job``)."""
        if self._stopping:
            return  # its lease runs out and a worker rescues it
        if self._can_start(job):
            self._start(job)
        else:
            self._adopted.append(job)

    def _pool(self, kind: str) -> str:
        known = self.kinds.get(kind)
        return known.pool if known is not None and known.pool in self.pools else "jobs"

    def _free(self, pool: str) -> int:
        running = sum(1 for name in self._pool_of.values() if name == pool)
        return self.pools[pool] - running

    def _lane(self, job: ClaimedJob) -> str | None:
        known = self.kinds.get(job.kind)
        if known is None or known.lane is None or not isinstance(job.payload, dict):
            return None
        value = job.payload.get(known.lane)
        return None if value is None else f"{job.kind}:{job.business}:{value}"

    def _can_start(self, job: ClaimedJob) -> bool:
        """Whether ``job``'s pool has a free slot and its lane (if any) its share of them."""
        pool = self._pool(job.kind)
        if self._free(pool) <= 0:
            return False
        lane = self._lane(job)
        if lane is None:
            return True
        running = sum(1 for name in self._lane_of.values() if name == lane)
        return running < max(1, self.pools[pool] // 4)

    def _has_room(self) -> bool:
        return any(self._free(pool) > 0 for pool in self.pools)

    # -- running ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self.run(), name=f"hub-worker-{self.id}")

    async def run(self) -> None:
        log.info("worker %s started (slots: %s)", self.id, self.pools)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not self._stopping:
                try:
                    claimed = await self._claim_some()
                except Exception:
                    log.exception("claiming jobs failed; retrying in %.1fs", self.poll_interval)
                    claimed = 0
                if claimed and self._has_room():
                    continue
                if not self._stopping:  # stop() may have woken us while we were claiming
                    self._wake.clear()
                startable = any(self._can_start(job) for job in self._adopted)
                if (self._handoff and self._has_room()) or startable:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            heartbeat.cancel()

    async def _claim_some(self) -> int:
        wall = _wall_ms()
        if wall >= self._next_rescue_ms:
            self._next_rescue_ms = wall + self.rescue_interval_ms
            rescued, failed = await self.queue.rescue_and_fail(now_ms=wall)
            if rescued:
                log.warning("rescued %d job(s) whose worker stopped", rescued)
            for job in failed:  # out of attempts: failed for good, and their kind hears it
                await self._gave_up(job, "its worker stopped or hung on its last attempt")
        if wall >= self._next_prune_ms:
            self._next_prune_ms = wall + self.prune_interval_ms
            await self.prune()
        free = {pool: self._free(pool) for pool in self.pools}
        now, until = self.clock.now_ms(), wall + self.lease_ms
        claimed: list[ClaimedJob] = []
        room = sum(max(slots, 0) for slots in free.values())
        if self._handoff and room:
            # Their kinds are not known before the claim: they may wait below like any other.
            ids, self._handoff = self._handoff[:room], self._handoff[room:]
            claimed = await self.queue.claim_ids(self.id, ids, now_ms=now, locked_until_ms=until)
        elif not self._handoff:
            for pool, slots in free.items():
                kinds = [name for name in self.kinds if self._pool(name) == pool]
                # Claimed jobs waiting for their lane count against the pool: never more than
                # a pool's worth of them is held.
                held = sum(1 for job in self._adopted if self._pool(job.kind) == pool)
                if slots > 0 and kinds and held < self.pools[pool]:
                    claimed += await self.queue.claim(
                        self.id, slots, now_ms=now, locked_until_ms=until, kinds=kinds
                    )
        # Already claimed (by this process's inserts, or just now): each starts as its pool
        # and its lane have room, in order; the others wait, their leases renewed.
        waiting, self._adopted = [*self._adopted, *claimed], []
        started = 0
        for job in waiting:
            if self._can_start(job):
                self._start(job)
                started += 1
            else:
                self._adopted.append(job)
        return started + len(claimed)

    async def prune(self) -> int:
        """Delete finished jobs older than ``keep_finished``, so the table holds what is
        waiting and a couple of weeks of history, not every job ever run. How many went."""
        try:
            pruned = await self.queue.prune(before_ms=self.clock.now_ms() - self.keep_finished_ms)
        except Exception:  # housekeeping: never a reason to stop running jobs
            log.exception("pruning finished jobs failed")
            return 0
        if pruned:
            log.info("pruned %d finished job(s)", pruned)
        return pruned

    def _start(self, job: ClaimedJob) -> None:
        task = asyncio.create_task(self.execute(job), name=f"hub-job-{job.id}")
        self._running[job.id] = task
        self._pool_of[job.id] = self._pool(job.kind)
        lane = self._lane(job)
        if lane is not None:
            self._lane_of[job.id] = lane
        self._deadline_of[job.id] = time.monotonic() + self._deadline(job.kind)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        for job_id, running in list(self._running.items()):
            if running is task:
                del self._running[job_id]
                self._pool_of.pop(job_id, None)
                self._lane_of.pop(job_id, None)
                self._deadline_of.pop(job_id, None)
        self._wake.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self.queue.extend_leases(
                    self.id, self._held(), until_ms=_wall_ms() + self.lease_ms
                )
            except Exception:
                log.exception("extending leases failed")

    def _held(self) -> list[int]:
        """The jobs whose leases the heartbeat renews: those waiting for a slot, and those
        running within their deadline. A run past it is left to lose its lease, whether or not
        its cancellation took."""
        now = time.monotonic()
        running = [job_id for job_id, ends in self._deadline_of.items() if ends > now]
        return [*running, *(job.id for job in self._adopted)]

    def _deadline(self, kind: str) -> float:
        known = self.kinds.get(kind)
        return known.deadline if known is not None else DEFAULT_DEADLINE

    async def execute(self, job: ClaimedJob) -> None:
        """Run one claimed job, within its kind's deadline, and record how it ended."""
        kind = self.kinds.get(job.kind)
        clock = self.clock
        bound: asyncio.Timeout | None = None
        try:
            if kind is None:
                raise Retry(f"no handler for job kind {job.kind!r} in this process")
            async with asyncio.timeout(kind.deadline) as bound:
                await kind.handler(self.context_for(job.kind), job)
        except TimeoutError as exc:
            if bound is None or not bound.expired():
                await self._raised(job, exc)
                return
            # The job's state is whatever the handler committed before the deadline: a text
            # records its attempt before calling the provider, so the retry asks first.
            log.error(
                "job %d (%s) passed its deadline of %gs and was abandoned; it will retry",
                job.id, job.kind, kind.deadline if kind else 0,
            )  # fmt: skip
            delay = self._backoff(job)
            await self._retry(
                job,
                f"passed its deadline of {kind.deadline if kind else 0:g}s",
                run_at_ms=clock.now_ms() + int(delay * 1000),
            )
        except Snooze as exc:
            await self.queue.retry(
                job, str(exc), run_at_ms=exc.until_ms, now_ms=clock.now_ms(), snooze=True
            )
            log.info("job %d (%s) waits: %s", job.id, job.kind, exc)
        except Retry as exc:
            delay = exc.after if exc.after is not None else self._backoff(job)
            await self._retry(job, str(exc), run_at_ms=clock.now_ms() + int(delay * 1000))
            log.info("job %d (%s) will retry in %.1fs: %s", job.id, job.kind, delay, exc)
        except Discard as exc:
            if await self.queue.fail(job, str(exc), now_ms=clock.now_ms()):
                self._failed(job)
            log.warning("job %d (%s) failed: %s", job.id, job.kind, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._raised(job, exc)
        else:
            if job.completed or await self.queue.complete(job, now_ms=clock.now_ms()):
                self.completed += 1
            else:
                log.warning("job %d finished after its lease was taken over; not recorded", job.id)

    async def _raised(self, job: ClaimedJob, exc: Exception) -> None:
        log.error("job %d (%s) raised", job.id, job.kind, exc_info=exc)
        delay = self._backoff(job)
        now = self.clock.now_ms()
        await self._retry(job, f"{type(exc).__name__}: {exc}", run_at_ms=now + int(delay * 1000))

    async def _retry(self, job: ClaimedJob, error: str, *, run_at_ms: int) -> None:
        """Another attempt, or (attempts used up) the job fails and its kind hears it gave up."""
        recorded = await self.queue.retry(
            job, error, run_at_ms=run_at_ms, now_ms=self.clock.now_ms()
        )
        if not recorded or job.attempt < job.max_attempts:
            return
        await self._gave_up(job, error)

    async def _gave_up(self, job: ClaimedJob, error: str) -> None:
        log.error("job %d (%s) failed after %d attempts: %s", job.id, job.kind, job.attempt, error)
        self._failed(job)
        kind = self.kinds.get(job.kind)
        if kind is not None and kind.on_give_up is not None:
            try:
                await kind.on_give_up(job, error)
            except Exception:
                log.exception("job %d (%s): telling that it failed raised", job.id, job.kind)

    def _failed(self, job: ClaimedJob) -> None:
        if self.failures is not None:
            self.failures.labels(job.kind).inc()

    def _backoff(self, job: ClaimedJob) -> float:
        kind = self.kinds.get(job.kind)
        return kind.backoff(job.attempt) if kind else 60.0

    async def drain(self, *, max_rounds: int = 1000) -> int:
        """Run every due job (and those they enqueue) until none is due; return how many ran.

        For tests and one-shot commands: no lease expiry races, no polling delay.
        """
        ran = 0
        for _ in range(max_rounds):
            _, failed = await self.queue.rescue_and_fail(now_ms=_wall_ms())
            for job in failed:
                await self._gave_up(job, "its worker stopped or hung on its last attempt")
            jobs = await self.queue.claim(
                self.id,
                self.concurrency,
                now_ms=self.clock.now_ms(),
                locked_until_ms=_wall_ms() + self.lease_ms,
            )
            if not jobs:
                return ran
            await asyncio.gather(*(self.execute(job) for job in jobs))
            ran += len(jobs)
        return ran

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; give running jobs ``timeout`` seconds, then cancel them (their leases
        expire and another worker runs them again)."""
        self._stopping = True
        self._wake.set()
        for handle in self._timers:
            handle.cancel()
        if self._loop_task is not None:
            await self._loop_task
        if self._running:
            _, pending = await asyncio.wait(list(self._running.values()), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        log.info("worker %s stopped after %d job(s)", self.id, self.completed)


def _wall_ms() -> int:
    return int(time.time() * 1000)
