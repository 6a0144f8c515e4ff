"""Every job run is bounded: a handler that never returns is abandoned at its kind's deadline
and retried, and its lease is not renewed past it, so no plugin can stall the queue."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.jobs import JobKind
from hub.models import Job
from hub.testing import eventually, make_hub, prepare_database, write_config
from hub.worker import Worker

hung: list[int] = []
#: Set by a test once it is done with a handler that swallows cancellation.
done = {"deaf": False}


async def never_returns(hub, job) -> None:
    hung.append(job.attempt)
    if job.attempt == 1:
        await asyncio.Event().wait()  # a provider that never answers


async def ignores_cancellation(hub, job) -> None:
    hung.append(job.attempt)
    while not done["deaf"]:  # swallows its cancellation: only the lease can free the job
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            continue


class stuck_kinds:
    from hub import hookimpl

    @staticmethod
    @hookimpl
    def hub_register_job_kinds(register):
        register(JobKind("stuck", never_returns, deadline=0.2, backoff_base=0.001))
        register(JobKind("deaf", ignores_cancellation, deadline=0.2, backoff_base=0.001))


@pytest.fixture
async def hub(hub_dir):
    hung.clear()
    done["deaf"] = False
    # The real clock: a rescued job is due at wall-clock time.
    hub = make_hub(write_config(hub_dir), extra_plugins=[stuck_kinds])
    await prepare_database(hub)
    await hub.start(worker=False, migrate=True)
    yield hub
    await hub.stop()


def worker(hub, **options) -> Worker:
    return Worker(hub.jobs, hub.job_kinds, hub.clock, context_for=lambda kind: hub, **options)


async def test_a_handler_that_never_returns_is_abandoned_at_its_deadline_and_retried(hub, caplog):
    await hub.jobs.enqueue("stuck", {}, now_ms=hub.clock.now_ms())
    running = worker(hub, poll_interval=0.02)
    caplog.set_level(logging.ERROR, "hub.worker")
    running.start()
    try:

        async def completed() -> None:
            assert (await Job.get()).state == "completed"

        await eventually(completed, timeout=10)
    finally:
        await running.stop(timeout=1)
    job = await Job.get()
    assert hung == [1, 2] and job.attempt == 2
    assert "passed its deadline of 0.2s" in job.last_error
    assert any("passed its deadline" in record.message for record in caplog.records)


async def test_a_run_past_its_deadline_loses_its_lease_even_if_it_ignores_cancellation(hub):
    await hub.jobs.enqueue("deaf", {}, now_ms=hub.clock.now_ms())
    first = worker(hub, poll_interval=0.02, lease=0.6, rescue_interval=0.05)
    first.start()
    try:

        def claimed(times: int) -> None:
            assert len(hung) >= times

        await eventually(lambda: claimed(1), timeout=10)
        # The stuck run keeps its slot (it will not stop), but the heartbeat no longer renews
        # it: the lease runs out and the job is rescued and claimed again.
        await eventually(lambda: claimed(2), timeout=10)
    finally:
        done["deaf"] = True
        await first.stop(timeout=5)
    assert hung[:2] == [1, 2]


async def test_renews_the_leases_of_more_than_ten_thousand_held_jobs(postgres_url, hub_dir):
    hub = make_hub(write_config(hub_dir, database=postgres_url))
    await hub.start(worker=False, migrate=True)
    try:
        held = 12_345
        await hub.db.execute(
            (
                "INSERT INTO hub_job (kind, payload, state, attempt, max_attempts, priority,"
                " run_at_ms, created_at_ms, locked_by, locked_until_ms)"
                " SELECT 'stuck', '{}', 'running', 1, 3, 0, 0, 0, 'w1', 1"
                " FROM generate_series(1, $1)",
                [held],
            )
        )
        ids = [row["id"] for row in await hub.db.fetch(("SELECT id FROM hub_job", []))]
        await hub.jobs.extend_leases("w1", ids, until_ms=2)
        [row] = await hub.db.fetch(
            ("SELECT COUNT(*) AS n FROM hub_job WHERE locked_until_ms = 2", [])
        )
        assert row["n"] == held
    finally:
        await hub.stop()
