"""The test kit itself (``hub.testing``): an in-process hub that waits for nothing."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from hub import JobKind, hookimpl
from hub.models import Job
from hub.testing import Clock, in_process_hub, write_config

ROOT = Path(__file__).resolve().parent.parent
ran: list[str] = []


async def chain(hub, job) -> None:
    ran.append(job.payload["name"])
    if job.payload.get("then"):
        await hub.enqueue("chain", {"name": job.payload["then"]})


class chain_plugin:
    @staticmethod
    @hookimpl
    def hub_register_job_kinds(register):
        register(JobKind("chain", chain, max_attempts=1))


async def test_run_due_jobs_runs_what_jobs_enqueue_and_leaves_the_future_alone(hub_dir):
    ran.clear()
    async with in_process_hub(write_config(hub_dir), extra_plugins=[chain_plugin]) as kit:
        hub = kit.hub
        await hub.enqueue("chain", {"name": "first", "then": "second"})
        later = kit.clock.now_ms() + 60_000
        await hub.enqueue("chain", {"name": "later"}, run_at_ms=later)
        assert ran == []  # no background worker: nothing runs by itself
        assert await kit.run_due_jobs() == 2
        assert ran == ["first", "second"]
        assert await kit.run_due_jobs() == 0
        assert await kit.advance(timedelta(seconds=59)) == 0
        assert await kit.advance(1) == 1
        assert ran == ["first", "second", "later"]
        assert await Job.filter(state="completed").count() == 3


async def test_each_hub_has_an_outbox_of_its_own(hub_dir):
    (hub_dir / "a").mkdir()
    (hub_dir / "b").mkdir()
    async with in_process_hub(write_config(hub_dir / "a")) as first:
        await first.post_call(id="one")
        await first.run_due_jobs()
        assert len(first.outbox.texts) == 1
    async with in_process_hub(write_config(hub_dir / "b")) as second:
        assert second.outbox is not first.outbox
        assert second.outbox.texts == []
        await second.post_call(id="two")
        await second.run_due_jobs()
        assert len(second.outbox.texts) == 1 and len(first.outbox.texts) == 1


async def test_advance_needs_a_manual_clock(hub_dir):
    async with in_process_hub(write_config(hub_dir), clock=Clock()) as kit:
        with pytest.raises(TypeError):
            await kit.advance(1)


def test_no_test_waits_a_fixed_time():
    """A fixed sleep before asserting that nothing happened passes vacuously when the hub is
    slower: run the due jobs instead. What may sleep: a job that holds a transaction open, and
    polls for a condition in another process or thread."""
    allowed = {
        "tests/test_crash.py": 1,  # polls the restarted hub's database
        "tests/test_scale_out.py": 1,  # polls the worker processes' log
        "tests/test_db.py": 1,  # holds an ORM transaction open
        "tests/test_jobs.py": 1,  # polls for the real worker's hand-over
        "tests/test_deadlines.py": 1,  # a job handler that ignores its cancellation
        "tests/processes.py": 1,  # polls a starting process
    }
    found: dict[str, int] = {}
    for path in [*ROOT.glob("tests/*.py"), *ROOT.glob("plugins/*/tests/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "sleep"
                # sleep(0) yields to the event loop: it waits for nothing
                and not (
                    node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
                )
            ):
                name = str(path.relative_to(ROOT))
                found[name] = found.get(name, 0) + 1
    assert found == allowed
