"""Crash proof: SIGKILL ``hub serve`` during a burst of missed calls; count lost and duplicate texts.

    python bench/crash_burst.py [--calls 1000] [--kills 5] [--database sqlite|postgres]

One ``hub serve`` (the in-process worker) texts through the ``twilio`` sender to a fake Twilio
API in this process (``hub_twilio.testing.FakeTwilio``). Calls (the ``generic`` webhook, each
from its own caller) are posted at 32 at a time; every ``calls / (kills + 1)`` acknowledged
calls the hub is killed with SIGKILL and started again. At the end the hub runs until every
text-back job has finished, and the fake's texts are counted per caller:

- ``lost``: an acknowledged call whose caller got no text;
- ``duplicates``: texts beyond the first to a caller.

Both must be 0. ``tests/test_crash_burst.py`` runs a short form.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from hub_twilio.testing import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hub.testing import business, signed_call, throwaway_postgres, write_config
from tests.processes import HubProcess


def caller(index: int) -> str:
    return f"+1512555{index:04d}"


def burst(calls: int, kills: int, directory: Path, database: str | None) -> dict[str, object]:
    with FakeTwilio() as fake:
        sender = {
            "use": "twilio",
            "account_sid": DEFAULT_ACCOUNT_SID,
            "auth_token": DEFAULT_AUTH_TOKEN,
            "from": "+15125550100",
            "api_base_url": fake.url,
        }
        extra = {"database": database} if database else {}
        config = write_config(
            directory,
            {"acme": business(sms_sender=sender, sinks=[{"use": "log"}])},
            worker={"lease": 2, "poll_interval": 0.1},
            **extra,
        )
        hub = HubProcess(config, dict(os.environ))
        hub.start()
        acknowledged: list[int] = []
        every = max(1, calls // (kills + 1))
        killed = 0

        def post(index: int) -> int | None:
            body, headers = signed_call(id=f"burst-{index}", caller=caller(index))
            try:
                response = httpx.post(
                    f"{hub.url}/hooks/acme/generic/call", content=body, headers=headers, timeout=10
                )
            except httpx.HTTPError:
                return None  # the hub died before answering: not acknowledged
            return index if response.status_code == 200 else None

        started = time.monotonic()
        index = 0
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            while index < calls:
                batch = range(index, min(calls, index + every))
                futures = [pool.submit(post, i) for i in batch]
                if killed < kills and batch.stop < calls:
                    # Kill while the batch's texts are being sent: once a third of it is in.
                    while sum(f.done() for f in futures) < len(futures) // 3:
                        time.sleep(0.005)
                    hub.kill()
                    killed += 1
                acknowledged += [i for f in futures if (i := f.result()) is not None]
                if hub.process is not None and hub.process.poll() is not None:
                    hub.start()
                index = batch.stop
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            texted = {text.to for text in fake.sent}
            if all(caller(i) in texted for i in acknowledged):
                break
            time.sleep(0.2)
        hub.stop()  # graceful: running sends finish before the count
        per_caller = collections.Counter(text.to for text in fake.sent)
        return {
            "calls": calls,
            "kills": killed,
            "acknowledged": len(acknowledged),
            "texts": len(fake.sent),
            "lost": sum(1 for i in acknowledged if per_caller[caller(i)] == 0),
            "duplicates": sum(count - 1 for count in per_caller.values() if count > 1),
            "lookups": len(fake.listings),
            "seconds": round(time.monotonic() - started, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if args.database == "postgres":
            with throwaway_postgres() as url:
                result = burst(args.calls, args.kills, Path(directory), url)
        else:
            result = burst(args.calls, args.kills, Path(directory), None)
    print(json.dumps({"database": args.database, **result}))


if __name__ == "__main__":
    main()
