"""The scale-out path on a real PostgreSQL: concurrent migrations, several worker processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from hub.models import Job
from hub.testing import business, make_hub, write_config

from .dists import make_distribution

#: What a hub in another process can load: the built-in sender and sink, no test plugins.
PLAIN = {"acme": business(sms_sender={"use": "console"}, sinks=[{"use": "log"}])}

RECORDER = """
import asyncio, os
from hub import hookimpl, JobKind

async def record(hub, job):
    await asyncio.sleep(0.002)  # long enough for claims to interleave
    with open(job.payload["log"], "a") as log:
        log.write(f"{job.id} {os.getpid()}\\n")

@hookimpl
def hub_register_job_kinds(register):
    register(JobKind("record", record, max_attempts=3))
"""


def hub_env(site: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }


def run_together(
    commands: list[list[str]], env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    processes = [
        subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


@pytest.mark.postgres
async def test_migrations_started_together_apply_once(postgres_url, hub_dir):
    config = write_config(hub_dir, PLAIN, database=postgres_url)
    results = await asyncio.to_thread(
        run_together,
        [[sys.executable, "-m", "hub.cli", "migrate", "--config", str(config)]] * 3,
        dict(os.environ),
    )
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    applied = sum(int(r.stdout.split(" migration(s)")[0].split()[-1]) for r in results)
    # Each migration applied by exactly one process; the others found nothing to do.
    migrations = sorted(Path(__file__).parent.parent.glob("hub/migrations/0*.py"))
    assert applied == len(migrations) == 2


@pytest.mark.postgres
async def test_many_worker_processes_run_each_job_exactly_once(postgres_url, hub_dir, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "hub-recorder", "hub_recorder", RECORDER)
    config = write_config(
        hub_dir, PLAIN, database=postgres_url, worker={"concurrency": 4, "poll_interval": 0.05}
    )
    log = tmp_path / "runs.log"
    jobs = 400

    # Enqueue from this process, where the recorder plugin is installed too.
    sys.path.insert(0, str(site))
    try:
        hub = make_hub(config)
        await hub.start(worker=False, migrate=True)
        try:
            for _ in range(jobs):
                await hub.jobs.enqueue("record", {"log": str(log)}, now_ms=hub.clock.now_ms())
        finally:
            await hub.stop()
    finally:
        sys.path.remove(str(site))

    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "worker", "--config", str(config)],
            env=hub_env(site),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = log.read_text().count("\n") if log.exists() else 0
            if done >= jobs:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # let any double execution show itself
    finally:
        for worker in workers:
            worker.terminate()
        errors = [worker.communicate(timeout=30)[1] for worker in workers]

    runs = [line.split() for line in log.read_text().splitlines()]
    per_job = Counter(job_id for job_id, _ in runs)
    assert len(per_job) == jobs, errors
    assert set(per_job.values()) == {1}, "a job ran more than once"
    assert len({pid for _, pid in runs}) > 1, "only one worker process did any work"

    hub = make_hub(config)
    await hub.start(worker=False)
    try:
        assert await Job.filter(state="completed").count() == jobs
    finally:
        await hub.stop()
