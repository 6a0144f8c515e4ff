"""Finished jobs are deleted once they are older than `worker.keep_finished_days`, by the
worker itself, in bounded batches: the job table holds what waits plus recent history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.models import Job
from hub.store.jobs import prune
from hub.testing import ManualClock, business, eventually, in_process_hub, write_config


def config(hub_dir):
    return write_config(
        hub_dir, {"acme": business()}, worker={"poll_interval": 0.02, "keep_finished_days": 3}
    )


async def old_jobs(kit) -> tuple[set[int], set[int]]:
    """Jobs of a call four days ago: the finished ones, and every other one."""
    await kit.post_call(id="old")
    await kit.run_due_jobs()
    now = kit.clock.now_ms()
    for state in ("failed", "cancelled"):
        await Job.create(
            kind="notify", payload={}, state=state, business="acme", max_attempts=1,
            run_at_ms=now, created_at_ms=now, finished_at_ms=now,
        )  # fmt: skip
    await Job.create(  # waiting since then (a kind no worker here runs): never pruned
        kind="elsewhere", payload={}, state="available", max_attempts=1, run_at_ms=now,
        created_at_ms=now,
    )  # fmt: skip
    finished = set(
        await Job.filter(state__in=["completed", "failed", "cancelled"]).values_list(
            "id", flat=True
        )
    )
    others = set(await Job.all().values_list("id", flat=True)) - finished
    assert finished and {"completed", "failed", "cancelled"} <= set(
        await Job.filter(id__in=finished).values_list("state", flat=True)
    )
    return finished, others


async def test_the_worker_prunes_finished_jobs_older_than_the_keep(hub_dir):
    clock = ManualClock(datetime.now(UTC))
    async with in_process_hub(config(hub_dir), clock=clock) as kit:
        finished, others = await old_jobs(kit)
        clock.advance(timedelta(days=2))
        await kit.post_call(id="recent", **{"from": "+15125550199"})
        await kit.run_due_jobs()
        recent = set(await Job.all().values_list("id", flat=True)) - finished - others
        clock.advance(timedelta(days=2))  # the first call's jobs are four days old now
        worker = kit.hub.make_worker()
        worker.start()
        try:

            async def pruned() -> None:
                left = set(await Job.all().values_list("id", flat=True))
                assert not left & finished and others | recent <= left

            await eventually(pruned)
        finally:
            await worker.stop(timeout=1)


async def test_pruning_goes_in_bounded_batches(hub_dir):
    clock = ManualClock(datetime.now(UTC))
    async with in_process_hub(config(hub_dir), clock=clock) as kit:
        now = clock.now_ms()
        for _ in range(5):
            await Job.create(
                kind="notify", payload={}, state="completed", max_attempts=1, run_at_ms=now,
                created_at_ms=now, finished_at_ms=now,
            )  # fmt: skip
        db = kit.hub.db
        assert await prune(db, before_ms=now) == 0  # not older than the cut
        assert await prune(db, before_ms=now + 1, batch=2, batches=1) == 2
        assert await prune(db, before_ms=now + 1, batch=2, batches=5) == 3
        assert await Job.all().count() == 0
