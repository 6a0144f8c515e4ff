"""The durable job queue, on SQLite and (where reachable) PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hub.jobs import Discard, JobKind, Retry
from hub.models import Job
from hub.runtime import Hub
from hub.testing import (
    ManualClock,
    make_hub,
    prepare_database,
    throwaway_postgres,
    write_config,
)

calls: list[tuple[int, int]] = []


async def flaky(hub: Hub, job) -> None:
    calls.append((job.id, job.attempt))
    mode = job.payload.get("mode")
    if mode == "retry":
        raise Retry("not yet", after=0)
    if mode == "discard":
        raise Discard("never")
    if mode == "crash":
        raise RuntimeError("boom")


class test_kinds:
    from hub import hookimpl

    @staticmethod
    @hookimpl
    def hub_register_job_kinds(register):
        register(JobKind("flaky", flaky, max_attempts=3, backoff_base=0.001, backoff_cap=0.001))


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    if request.param == "sqlite":
        yield "sqlite://hub.sqlite3"
        return
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
async def hub(database, hub_dir):
    calls.clear()
    hub = make_hub(
        write_config(hub_dir, database=database),
        extra_plugins=[test_kinds],
        clock=ManualClock(datetime.now(UTC)),
    )
    await prepare_database(hub)  # SQLite: a migrated copy
    await hub.start(worker=False, migrate=True)
    yield hub
    await hub.stop()


async def enqueue(hub: Hub, **kwargs) -> int | None:
    kwargs.setdefault("now_ms", hub.clock.now_ms())
    return await hub.jobs.enqueue("flaky", kwargs.pop("payload", {}), max_attempts=3, **kwargs)


async def test_claim_runs_due_jobs_once_and_completes_them(hub):
    ids = [await enqueue(hub) for _ in range(5)]
    future = await enqueue(hub, run_at_ms=hub.clock.now_ms() + 60_000)
    worker = hub.make_worker()
    assert await worker.drain() == 5
    assert sorted(job_id for job_id, _ in calls) == ids
    states = dict(await Job.all().values_list("id", "state"))
    assert [states[i] for i in ids] == ["completed"] * 5
    assert states[future] == "available"


async def test_dedupe_key_holds_while_live_and_frees_when_done(hub):
    first = await enqueue(hub, dedupe_key="k")
    assert first is not None
    assert await enqueue(hub, dedupe_key="k") is None
    await hub.make_worker().drain()
    assert await enqueue(hub, dedupe_key="k") not in (None, first)


async def test_retries_with_backoff_then_fails_for_operators(hub):
    job_id = await enqueue(hub, payload={"mode": "crash"})
    worker = hub.make_worker()
    for _ in range(3):
        hub.clock.advance(1)  # past the backoff
        await worker.drain()
    job = await Job.get(id=job_id)
    assert job.state == "failed" and job.attempt == 3
    assert "RuntimeError: boom" in job.last_error
    assert [attempt for _, attempt in calls] == [1, 2, 3]


async def test_discard_ends_at_once(hub):
    job_id = await enqueue(hub, payload={"mode": "discard"})
    await hub.make_worker().drain()
    job = await Job.get(id=job_id)
    assert (job.state, job.attempt, job.last_error) == ("failed", 1, "never")


async def test_completion_is_fenced_against_a_rescued_zombie(hub):
    job_id = await enqueue(hub)
    now = hub.clock.now_ms()
    [zombie] = await hub.jobs.claim("worker-a", 1, now_ms=now, locked_until_ms=now + 10)
    assert await hub.jobs.rescue(now_ms=now + 1_000) == 1
    [rescued] = await hub.jobs.claim(
        "worker-b", 1, now_ms=now + 1_000, locked_until_ms=now + 61_000
    )
    assert rescued.id == zombie.id == job_id and rescued.attempt == 2
    assert await hub.jobs.complete(zombie, now_ms=now + 1_001) is False
    assert await hub.jobs.retry(zombie, "late", run_at_ms=now, now_ms=now) is False
    assert await hub.jobs.complete(rescued, now_ms=now + 1_002) is True
    job = await Job.get(id=job_id)
    assert job.state == "completed" and job.attempt == 2


async def test_snooze_does_not_use_up_an_attempt(hub):
    job_id = await enqueue(hub)
    now = hub.clock.now_ms()
    [job] = await hub.jobs.claim("w", 1, now_ms=now, locked_until_ms=now + 1000)
    assert await hub.jobs.retry(job, "rate limited", run_at_ms=now, now_ms=now, snooze=True)
    assert (await Job.get(id=job_id)).attempt == 0


async def test_cancel_by_key_only_touches_waiting_jobs(hub):
    waiting = await enqueue(hub, dedupe_key="remind:1", run_at_ms=hub.clock.now_ms() + 60_000)
    await enqueue(hub, dedupe_key="remind:2")
    assert await hub.jobs.cancel(["remind:1", "remind:3"], now_ms=hub.clock.now_ms()) == 1
    assert (await Job.get(id=waiting)).state == "cancelled"
    assert await enqueue(hub, dedupe_key="remind:1") is not None


async def test_enqueue_is_part_of_the_callers_transaction(hub):
    with pytest.raises(RuntimeError):
        async with hub.db.transaction() as uow:
            await uow.run(hub.jobs.enqueue("flaky", {}, max_attempts=3, dedupe_key="rolled-back"))
            raise RuntimeError("the webhook's transaction fails")
    assert await Job.filter(key="rolled-back").count() == 0


async def test_the_in_process_worker_runs_handed_over_jobs_at_once(hub):
    worker = hub.make_worker()
    worker.poll_interval = 30  # only the hand-over can make it run in time
    worker.start()
    try:
        job_id = await enqueue(hub)
        worker.notify([job_id])
        for _ in range(200):
            if calls:
                break
            await asyncio.sleep(0.01)
        assert calls == [(job_id, 1)]
    finally:
        await worker.stop()


async def test_a_job_whose_worker_died_on_its_last_attempt_fails_and_its_kind_hears_it(hub):
    """A text-back whose worker died on its last try is a lost lead: the owner must hear."""
    told: list[tuple[int, str]] = []

    async def gave_up(job, error: str) -> None:
        told.append((job.id, error))

    hub.job_kinds["flaky"] = replace(hub.job_kinds["flaky"], on_give_up=gave_up)
    job_id = await hub.jobs.enqueue("flaky", {}, max_attempts=1)
    now = hub.clock.now_ms()
    [dying] = await hub.jobs.claim("worker-a", 1, now_ms=now, locked_until_ms=now + 10)
    assert dying.attempt == dying.max_attempts == 1
    await hub.make_worker().drain()  # the lease is long gone: rescued, out of attempts
    job = await Job.get(id=job_id)
    assert job.state == "failed" and "stopped or hung" in (job.last_error or "")
    assert told == [(job_id, "its worker stopped or hung on its last attempt")]
    await hub.make_worker().drain()
    assert len(told) == 1  # once
