"""Benchmark: forward-mode Twilio missed calls through a real ``hub serve``, against a baseline.

    python bench/twilio_missed_calls.py                      # SQLite (the default database)
    python bench/twilio_missed_calls.py --database postgres  # a throwaway PostgreSQL database

What runs, each in its own process, all on 127.0.0.1:

- the fake Twilio API (``bench/twilio_fake.py``): receives the hub's message creates and notes
  when each arrived;
- ``hub serve`` (one uvicorn worker, the in-process job worker, default settings) with one
  business on the ``twilio`` call source and sender, pointed at the fake;
- the baseline (``bench/twilio_baseline.py``): a bare Starlette app that parses the same forms
  and writes one call row plus one job row, nothing else.

Each missed call is two signed webhooks, as Twilio sends them: ``/voice`` (answered with a
``<Dial>``) then ``/dial`` with ``DialCallStatus=no-answer``; every call is from a new caller.
Two phases:

1. throughput: a fixed number of calls at a fixed concurrency (closed loop); missed calls
   acknowledged per second, for the hub and for the baseline;
2. text-back latency (hub only): calls offered at a fixed rate (open loop, 100 calls/s); the
   time from sending the ``/dial`` webhook to the fake Twilio receiving the message create.

It prints one JSON document. Load is bounded: ``--calls`` + ``--latency-calls`` calls per
server (plus a warm-up), each phase with a time limit.

``--sqlite-synchronous NORMAL`` runs both servers' SQLite files without an fsync per commit
(what that changes tells whether a server is bound by the disk or by its CPU); ``--profile DIR``
records the hub with py-spy during both phases (``bench/twilio_profile_summary.py`` reads it).
Callers are numbers in a region where it is daytime, since the hub holds texts in the
recipient's quiet hours.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from hub_twilio.testing import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    DEFAULT_OWNER,
    TwilioWebhooks,
)

HERE = Path(__file__).resolve().parent
POSTGRES_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 0.7
TARGET_P99_MS = 50.0


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def peak_rss_mb(self) -> float | None:
        """The process's high-water resident set (``VmHWM``), in MiB."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def started(
    name: str, argv: Sequence[str], url: str | None, log: Path, **popen: Any
) -> Iterator[Server]:
    """Start ``argv``; ``url=None`` reads the URL from the first line it prints."""
    output = log.open("wb")
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE if url is None else output, stderr=output, **popen
    )
    try:
        if url is None:
            assert process.stdout is not None
            url = process.stdout.readline().decode().strip()
            if not url.startswith("http"):
                raise RuntimeError(f"{name} did not start; see {log}")
        server = Server(name, process, url)
        yield server
    finally:
        Server(name, process, url or "").stop()
        output.close()


async def wait_ready(
    url: str, path: str, process: subprocess.Popen[bytes], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited with {process.returncode} during startup")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + path) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready within {timeout}s")


# -- calls ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class MissedCall:
    caller: str
    voice: Webhook
    dial: Webhook


#: Caller number prefixes (and their zones): the hub holds texts outside 08:00-21:00 in the
#: recipient's local time, so the run uses callers for whom it is daytime now.
CALLER_PREFIXES = (
    ("+1202", "America/New_York"),  # + 7 digits
    ("+44207", "Europe/London"),  # + 7 digits
    ("+8135", "Asia/Tokyo"),  # + 7 digits
)


def caller_prefix() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    for prefix, zone in CALLER_PREFIXES:
        if 9 <= datetime.now(ZoneInfo(zone)).hour < 20:
            return prefix
    raise RuntimeError("no caller region is in daytime now")  # the windows cover the day


def make_calls(hooks: TwilioWebhooks, count: int, first: int) -> list[MissedCall]:
    """Signed webhooks for ``count`` missed calls, each from a caller of its own."""
    prefix = caller_prefix()
    calls = []
    for index in range(first, first + count):
        caller = f"{prefix}{5550000 + index:07d}"
        call = hooks.call(caller)
        voice = hooks.sign("voice", call.voice())
        dial = hooks.sign("dial", call.dial("no-answer"))
        calls.append(
            MissedCall(
                caller,
                Webhook(voice.target, voice.body, voice.headers),
                Webhook(dial.target, dial.body, dial.headers),
            )
        )
    return calls


async def post(session: aiohttp.ClientSession, base: str, hook: Webhook) -> None:
    async with session.post(base + hook.path, data=hook.body, headers=hook.headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{hook.path}: HTTP {response.status}")


async def throughput(
    base: str, calls: list[MissedCall], concurrency: int, limit: float
) -> dict[str, Any]:
    """Closed loop: ``concurrency`` callers, each placing its next call when the last is done."""
    pending = iter(calls)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def caller() -> None:
            for call in pending:
                await post(session, base, call.voice)
                await post(session, base, call.dial)

        started_at = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(concurrency))), limit)
        elapsed = time.perf_counter() - started_at
    return {
        "calls": len(calls),
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "calls_per_s": round(len(calls) / elapsed, 1),
    }


async def latency(
    base: str, fake: str, calls: list[MissedCall], rate: float, limit: float
) -> dict[str, Any]:
    """Open loop at ``rate`` calls/s: webhook sent → the fake Twilio receiving the create."""
    sent: dict[str, float] = {}
    acks: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def place(call: MissedCall) -> None:
            await post(session, base, call.voice)
            sent[call.caller] = time.monotonic()
            await post(session, base, call.dial)
            acks.append(time.monotonic() - sent[call.caller])

        tasks = []
        start = time.monotonic() + 0.05
        for index, call in enumerate(calls):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(place(call)))
        offered_for = time.monotonic() - start
        await asyncio.wait_for(asyncio.gather(*tasks), limit)
        received = await wait_for_texts(session, fake, {c.caller for c in calls}, limit)
    delays = sorted((received[caller] - sent[caller]) * 1000 for caller in sent)
    return {
        "calls": len(calls),
        "offered_calls_per_s": rate,
        "achieved_calls_per_s": round(len(calls) / offered_for, 1) if offered_for > 0 else None,
        "text_back_ms": summary(delays),
        "dial_webhook_ack_ms": summary(sorted(a * 1000 for a in acks)),
    }


async def wait_for_texts(
    session: aiohttp.ClientSession, fake: str, callers: set[str], limit: float
) -> dict[str, float]:
    deadline = time.monotonic() + limit
    while True:
        async with session.get(fake + "/_bench/received") as response:
            received: dict[str, float] = (await response.json())["received"]
        if callers <= received.keys():
            return received
        if time.monotonic() > deadline:
            missing = len(callers - received.keys())
            raise RuntimeError(f"{missing} of {len(callers)} texts never reached the fake Twilio")
        await asyncio.sleep(0.05)


def summary(values: list[float]) -> dict[str, float]:
    def pct(p: float) -> float:
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2)

    return {
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": round(values[-1], 2),
        "mean": round(statistics.fmean(values), 2),
    }


@contextlib.contextmanager
def profiling(directory: Path | None, server: Server, phase: str) -> Iterator[None]:
    """Sample ``server`` with py-spy during a phase (``--profile DIR``): collapsed stacks in
    ``DIR/hub-PHASE.txt``, for flame graphs or ``bench/twilio_profile_summary.py``."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{server.name}-{phase}.txt"
    spy = subprocess.Popen(
        [
            shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy",
            "record",
            "--pid",
            str(server.process.pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)


# -- databases ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def postgres_databases(*names: str):  # type: ignore[no-untyped-def]
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        yield [POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name for name in names]
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# -- the run --------------------------------------------------------------------------------------


def hub_config(directory: Path, database: str, port: int, fake: str) -> Path:
    account = {
        "use": "twilio",
        "account_sid": DEFAULT_ACCOUNT_SID,
        "auth_token": {"$env": "BENCH_TWILIO_AUTH_TOKEN"},
    }
    config = {
        "database": database,
        "public_url": f"http://127.0.0.1:{port}",
        "businesses": {
            "acme": {
                "name": "Acme Plumbing",
                "timezone": "America/Chicago",
                "numbers": [DEFAULT_NUMBER],
                "forward_to": DEFAULT_OWNER,
                "hours": {"mon-sun": "00:00-24:00"},
                "owner": {"name": "Pat", "email": "pat@example.com"},
                "call_source": {**account, "mode": "forward"},
                "sms_sender": {**account, "from": DEFAULT_NUMBER, "api_base_url": fake},
                "sinks": [],
                # Every call is a new caller; the default cap (500 texts a day) would stop a run.
                "text_back": {"daily_cap": 0},
            }
        },
    }
    path = directory / "hub.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    python = sys.executable
    hub_bin = str(Path(python).parent / "hub")
    env = {**os.environ, "BENCH_TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN, "PYTHONUNBUFFERED": "1"}
    tag = secrets.token_hex(4)
    results: dict[str, Any] = {
        "database": args.database,
        "sqlite_synchronous": args.sqlite_synchronous or "FULL (default)"
        if args.database == "sqlite"
        else None,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": {
            "servers": "uvicorn, 1 worker each; hub with its in-process job worker (defaults)",
            "sinks": [],
            "calls_are": "voice + dial(no-answer) webhooks, signed, a new caller each",
        },
    }

    async def databases():  # type: ignore[no-untyped-def]
        if args.database == "postgres":
            return postgres_databases(f"hub_bench_{tag}", f"hub_bench_base_{tag}")
        query = f"?synchronous={args.sqlite_synchronous}" if args.sqlite_synchronous else ""
        return contextlib.nullcontext(
            [
                f"sqlite://{workdir / 'hub.sqlite3'}{query}",
                f"sqlite://{workdir / 'baseline.sqlite3'}{query}",
            ]
        )

    async def main() -> None:
        async with await databases() as (hub_db, base_db):
            with started(
                "fake", [python, str(HERE / "twilio_fake.py")], None, workdir / "fake.log"
            ) as fake:
                await run_baseline(base_db)
                await run_hub(hub_db, fake)

    async def run_baseline(database: str) -> None:
        port = free_port()
        argv = [
            python,
            str(HERE / "twilio_baseline.py"),
            "--port",
            str(port),
            "--database",
            database,
        ]
        url = f"http://127.0.0.1:{port}"
        with started("baseline", argv, url, workdir / "baseline.log") as server:
            await wait_ready(url, "/healthz", server.process)
            hooks = TwilioWebhooks(url)
            warmup = make_calls(hooks, args.warmup, 0)
            calls = make_calls(hooks, args.calls, args.warmup)
            for batch in (warmup, calls):
                baseline_calls = [
                    MissedCall(
                        c.caller,
                        Webhook("/voice", c.voice.body, c.voice.headers),
                        Webhook("/dial", c.dial.body, c.dial.headers),
                    )
                    for c in batch
                ]
                measured = await throughput(url, baseline_calls, args.concurrency, args.time_limit)
            results["baseline"] = {"throughput": measured, "peak_rss_mb": server.peak_rss_mb()}

    async def run_hub(database: str, fake: Server) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = hub_config(workdir, database, port, fake.url)
        if args.database == "postgres":
            migrate = await asyncio.create_subprocess_exec(
                hub_bin,
                "migrate",
                "--config",
                str(config),
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
            )
            if await migrate.wait() != 0:
                raise RuntimeError("hub migrate failed")
        argv = [hub_bin, "serve", "--config", str(config), "--port", str(port)]
        with started("hub", argv, url, workdir / "hub.log", env=env) as server:
            await wait_ready(url, "/readyz", server.process)
            hooks = TwilioWebhooks(url)
            warmup = make_calls(hooks, args.warmup, 0)
            calls = make_calls(hooks, args.calls, args.warmup)
            paced = make_calls(hooks, args.latency_calls, args.warmup + args.calls)
            async with aiohttp.ClientSession() as session:
                await throughput(url, warmup, args.concurrency, args.time_limit)
                await wait_for_texts(session, fake.url, {c.caller for c in warmup}, args.time_limit)
                with profiling(args.profile, server, "throughput"):
                    measured = await throughput(url, calls, args.concurrency, args.time_limit)
                    acked = time.perf_counter()
                    await wait_for_texts(
                        session, fake.url, {c.caller for c in calls}, args.time_limit
                    )
                    drained = time.perf_counter() - acked
            measured["texts_all_sent_s_after_last_ack"] = round(drained, 3)
            measured["calls_texted_per_s"] = round(len(calls) / (measured["seconds"] + drained), 1)
            with profiling(args.profile, server, "latency"):
                paced_result = await latency(url, fake.url, paced, args.rate, args.time_limit)
            results["hub"] = {
                "throughput": measured,
                "latency": paced_result,
                "peak_rss_mb": server.peak_rss_mb(),
            }

    asyncio.run(main())
    hub_rate = results["hub"]["throughput"]["calls_per_s"]
    base_rate = results["baseline"]["throughput"]["calls_per_s"]
    ratio = round(hub_rate / base_rate, 3)
    p99 = results["hub"]["latency"]["text_back_ms"]["p99"]
    results["hub_vs_baseline_throughput"] = ratio
    results["targets"] = {
        "throughput_ratio_at_least": TARGET_RATIO,
        "throughput_ratio_met": ratio >= TARGET_RATIO,
        "text_back_p99_ms_below": TARGET_P99_MS,
        "text_back_p99_met": p99 < TARGET_P99_MS,
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="callers in the throughput phase"
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls in the throughput phase")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0, help="calls/s in the latency phase")
    parser.add_argument(
        "--latency-calls", type=int, default=1000, help="calls in the latency phase"
    )
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds, per phase")
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["FULL", "NORMAL"],
        default=None,
        help="PRAGMA synchronous for both servers' SQLite files (default: SQLite's, FULL)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, DB)")
    parser.add_argument(
        "--profile", type=Path, default=None, help="record the hub with py-spy into this directory"
    )
    args = parser.parse_args()
    if args.calls + args.latency_calls + args.warmup > 20000:
        parser.error("at most 20000 calls per run")
    workdir = Path(tempfile.mkdtemp(prefix="hub-bench-twilio-"))
    try:
        results = run(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.keep:
        results["workdir"] = str(workdir)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
