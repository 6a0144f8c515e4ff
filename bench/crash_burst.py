"""Crash proof: SIGKILL ``hub serve`` during a burst of missed calls; count lost and duplicate texts.

    python bench/crash_burst.py [--calls 1000] [--kills 5] [--database sqlite|postgres]

One ``hub serve`` (the in-process worker) texts through the ``twilio`` sender to a fake Twilio
API in this process (``hub_twilio.testing.FakeTwilio``). Calls (the ``generic`` webhook, each
from its own caller) are posted 32 at a time. The calls are cut into ``kills + 1`` batches;
once a third of a batch is in, the hub is killed with SIGKILL and started again at once.

A call whose webhook got no answer, or a 5xx, is posted again until it is acknowledged, as a
provider retries a webhook (the hub dedupes by the call's id): a call cut off by a kill may or
may not have been committed, and only the retry tells. When every call is acknowledged, the
run waits until the *database* says it is done: every text-back job finished (completed or
failed) and no text attempt without an outcome. Then the fake's texts are counted:

- ``lost``: an acknowledged call whose caller got no text;
- ``duplicates``: callers who got more than one text.

Both must be 0. ``unacknowledged`` (calls refused, or still unanswered after two minutes of
retries) must be 0 too. ``tests/test_crash_burst.py`` runs a short form.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import json
import os
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from hub_twilio.testing import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hub.testing import business, signed_call, throwaway_postgres, write_config
from tests.processes import HubProcess

#: How long a call's webhook is retried before it counts as unacknowledged.
RETRY_FOR = 120.0

#: Text-back jobs by state, and text attempts without an outcome.
JOBS = "SELECT state, COUNT(*) FROM hub_job WHERE kind = 'text_back' GROUP BY state"
OPEN_ATTEMPTS = "SELECT COUNT(*) FROM hub_message WHERE status = 'sending' AND sent_at IS NULL"
FINISHED = frozenset({"completed", "failed", "cancelled"})


def caller(index: int) -> str:
    # Not 555-01xx: +15125550100 is the business's own number, which is never texted.
    return f"+1512666{index:04d}"


@dataclass(frozen=True)
class Progress:
    """What the database says of the burst's text-backs."""

    jobs: dict[str, int]
    open_attempts: int

    @property
    def done(self) -> bool:
        return self.open_attempts == 0 and all(state in FINISHED for state in self.jobs)


class Database:
    """Reads the hub's database from outside, as an operator would."""

    def __init__(self, url: str | None, directory: Path) -> None:
        self.url, self.file = url, directory / "hub.sqlite3"

    def progress(self) -> Progress:
        if self.url is None:
            with sqlite3.connect(self.file, timeout=10) as connection:
                jobs = connection.execute(JOBS).fetchall()
                (attempts,) = connection.execute(OPEN_ATTEMPTS).fetchone()
            return Progress(dict(jobs), attempts)
        return asyncio.run(self._postgres())

    async def _postgres(self) -> Progress:
        import asyncpg

        assert self.url is not None
        connection = await asyncpg.connect(self.url, timeout=10)
        try:
            jobs = await connection.fetch(JOBS)
            attempts = await connection.fetchval(OPEN_ATTEMPTS)
        finally:
            await connection.close()
        return Progress({row[0]: row[1] for row in jobs}, attempts)


@dataclass(frozen=True)
class Posted:
    index: int
    acknowledged: bool
    tries: int


def burst(
    calls: int,
    kills: int,
    directory: Path,
    database: str | None = None,
    *,
    finish_within: float = 600.0,
) -> dict[str, Any]:
    """Post ``calls`` missed calls, killing the hub ``kills`` times; the counts. ``database``
    is a PostgreSQL URL (migrated here first, as an operator runs ``hub migrate``) or None
    for SQLite in ``directory``. Raises when the database is not done ``finish_within``
    seconds after the last call was acknowledged."""
    with FakeTwilio() as fake:
        sender = {
            "use": "twilio",
            "account_sid": DEFAULT_ACCOUNT_SID,
            "auth_token": DEFAULT_AUTH_TOKEN,
            "from": "+15125550100",
            "api_base_url": fake.url,
        }
        settings = business(
            sms_sender=sender,
            sinks=[{"use": "log"}],
            text_back={"daily_cap": 0},  # the cap (500 a day) is not what is measured here
        )
        config = write_config(
            directory,
            {"acme": settings},
            worker={"lease": 2, "poll_interval": 0.1},
            **({"database": database} if database else {}),
        )
        env = dict(os.environ)
        if database:
            migrate(config, env)
        hub = HubProcess(config, env, log=directory / "hub.log", start_timeout=60)
        hub.start()
        every = max(1, calls // (kills + 1))
        killed = 0
        client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=32))

        def post(index: int) -> Posted:
            body, headers = signed_call(id=f"burst-{index}", caller=caller(index))
            give_up = time.monotonic() + RETRY_FOR
            tries = 0
            while True:
                tries += 1
                try:
                    response = client.post(
                        f"{hub.url}/hooks/acme/generic/call", content=body, headers=headers
                    )
                    if response.status_code == 200:
                        return Posted(index, True, tries)
                    if response.status_code < 500:
                        return Posted(index, False, tries)  # refused: a provider gives up
                except httpx.HTTPError:
                    pass  # cut off by a kill, or the hub is not back yet: retry
                if time.monotonic() > give_up:
                    return Posted(index, False, tries)
                time.sleep(min(2.0, 0.05 * 2**tries))  # a provider's backoff

        started = time.monotonic()
        futures: list[concurrent.futures.Future[Posted]] = []
        try:
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                for start in range(0, calls, every):
                    batch = [pool.submit(post, i) for i in range(start, min(calls, start + every))]
                    futures += batch
                    if killed < kills and start + every < calls:
                        # Kill while the batch's texts are being sent: once a third of it is in.
                        while sum(f.done() for f in batch) < len(batch) // 3:
                            time.sleep(0.005)
                        hub.kill()
                        killed += 1
                        hub.start()  # the batch's cut-off calls retry until it answers
            posted = [f.result() for f in futures]
            acknowledged = time.monotonic()
            progress = wait_until_done(Database(database, directory), finish_within)
        except BaseException:
            print(hub.stop()[-5000:], file=sys.stderr)
            raise
        finally:
            client.close()
        finished = time.monotonic()
        hub.stop()  # graceful; nothing is running by now
    per_caller = collections.Counter(text.to for text in fake.sent)
    acked = [p.index for p in posted if p.acknowledged]
    return {
        "calls": calls,
        "kills": killed,
        "acknowledged": len(acked),
        "unacknowledged": calls - len(acked),
        "retried": sum(1 for p in posted if p.tries > 1),
        "texts": len(fake.sent),
        "lost": sum(1 for i in acked if per_caller[caller(i)] == 0),
        "duplicates": sum(1 for count in per_caller.values() if count > 1),
        "lookups": len(fake.listings),
        # Texts the fake had accepted when a kill cut off their outcome: each a duplicate but
        # for the lookup (the hub logs each one it finds).
        "found_sent": (directory / "hub.log").read_text(errors="replace").count("had gone out"),
        "jobs": progress.jobs,
        "seconds": round(finished - started, 1),
        "drain_seconds": round(finished - acknowledged, 1),
    }


def migrate(config: Path, env: dict[str, str]) -> None:
    """``hub migrate``: ``hub serve`` migrates SQLite itself, but not PostgreSQL."""
    import subprocess

    command = [sys.executable, "-m", "hub.cli", "migrate", "--config", str(config)]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)


def wait_until_done(database: Database, within: float) -> Progress:
    deadline = time.monotonic() + within
    while True:
        progress = database.progress()
        if progress.done:
            return progress
        if time.monotonic() > deadline:
            raise TimeoutError(f"the hub was not done within {within} s: {progress}")
        time.sleep(0.25)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if args.database == "postgres":
            with throwaway_postgres() as url:
                result = burst(args.calls, args.kills, Path(directory), url)
        else:
            result = burst(args.calls, args.kills, Path(directory))
    print(json.dumps({"database": args.database, **result}))


if __name__ == "__main__":
    main()
