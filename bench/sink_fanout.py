"""Benchmark: leads fanned out to four sinks whose services each take 100 ms, one of them failing.

    python bench/sink_fanout.py [--calls 1000] [--concurrency 16] [--delay 0.1]

One process, three runs of the same load, each on a fresh hub (SQLite, the in-process worker,
``hub serve``'s app under uvicorn on 127.0.0.1):

1. ``no_sinks``: the baseline, a hub with no sink;
2. ``healthy``: sinks ``webhook``, ``slack``, ``discord`` and ``teams``, each hearing
   ``lead.created``, each service answering after ``--delay`` seconds;
3. ``one_failing``: the same, but the Teams workflow answers 503 to everything;
4. ``one_slow``: the same, but the Teams workflow takes ten times as long.

Each run posts ``--calls`` missed calls (the ``generic`` webhook, each from a new caller, so
each makes a lead) at ``--concurrency``. It reports the webhooks' latency and rate, when the
last text-back went out, and per sink how many deliveries arrived and how long after its call
each one did. What to read: the webhooks and text-backs of ``healthy`` and ``one_failing``
beside ``no_sinks`` (sinks must not slow them), and the three healthy sinks' latencies in
``one_failing`` and ``one_slow`` beside ``healthy`` (a failing or slow sink must not delay the
others).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn
from hub_webhook.testing import new_secret
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub.testing import business, free_port, make_hub, running_hub, signed_call, write_config
from hub.testing.memory import MemoryOutbox

SINKS = ("webhook", "slack", "discord", "teams")


class SlowServices:
    """One server standing in for the four services, each answering after ``delay``."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.failing: set[str] = set()
        self.slow: set[str] = set()
        self.arrivals: dict[str, list[float]] = {name: [] for name in SINKS}
        self.requests: dict[str, int] = dict.fromkeys(SINKS, 0)
        self.app = Starlette(routes=[Route("/{service}", self.receive, methods=["POST"])])

    def reset(self, failing: set[str], slow: set[str]) -> None:
        self.failing, self.slow = failing, slow
        for name in SINKS:
            self.arrivals[name].clear()
            self.requests[name] = 0

    async def receive(self, request: Request) -> Response:
        service = request.path_params["service"]
        await request.body()
        await asyncio.sleep(self.delay * (10 if service in self.slow else 1))
        self.requests[service] += 1
        if service in self.failing:
            return PlainTextResponse("unavailable", status_code=503)
        self.arrivals[service].append(time.monotonic())
        if service == "slack":
            return PlainTextResponse("ok")
        if service == "discord":
            return JSONResponse({"id": str(self.requests[service]), "type": 0})
        return Response(status_code=202 if service == "teams" else 200)


def sinks(base: str) -> list[dict[str, Any]]:
    common = {"allow_private": True, "on": ["lead.created"]}
    return [
        {"use": "webhook", "url": f"{base}/webhook", "secret": new_secret(), **common},
        {"use": "slack", "url": f"{base}/slack", **common},
        {"use": "discord", "url": f"{base}/discord", **common},
        {"use": "teams", "url": f"{base}/teams", **common},
    ]


async def run(
    name: str,
    services: SlowServices,
    base: str,
    args: argparse.Namespace,
    failing: set[str],
    slow: set[str],
) -> dict[str, Any]:
    services.reset(failing, slow)
    directory = Path(tempfile.mkdtemp(prefix=f"hub-bench-{name}-"))
    settings = business(
        sinks=sinks(base) if name != "no_sinks" else [],
        text_back={"delay": 0, "daily_cap": args.calls * 2},
        follow_ups={"nudge_after_hours": 0, "remind_owner_after_hours": 0},
    )
    outbox = MemoryOutbox()
    worker = {"poll_interval": 0.2, "delivery_concurrency": args.delivery_concurrency}
    hub = make_hub(write_config(directory, {"acme": settings}, worker=worker), outbox=outbox)
    posted: list[float] = []
    latencies: list[float] = []
    async with running_hub(hub) as served:  # its lifespan starts the hub and its worker
        limit = asyncio.Semaphore(args.concurrency)

        async def call(index: int) -> None:
            body, headers = signed_call(**{"from": f"+1512{index:07d}", "id": f"{name}-{index}"})
            async with limit:
                started = time.monotonic()
                response = await served.client.post(
                    "/hooks/acme/generic/call", content=body, headers=headers
                )
                latencies.append(time.monotonic() - started)
                posted.append(started)
                response.raise_for_status()

        began = time.monotonic()
        await asyncio.gather(*(call(i) for i in range(args.calls)))
        acknowledged = time.monotonic() - began
        texted = await until(lambda: len(outbox.texts) >= args.calls, args.timeout)
        texted_after = time.monotonic() - began if texted else None
        healthy = [s for s in SINKS if s not in failing] if name != "no_sinks" else []
        await until(lambda: all(len(services.arrivals[s]) >= args.calls for s in healthy), 120)
        result: dict[str, Any] = {
            "webhook_ms": percentiles(latencies),
            "calls_per_second": round(args.calls / acknowledged, 1),
            "all_texted_after_s": round(texted_after, 2) if texted_after else "not all",
        }
        if name != "no_sinks":
            first = min(posted)
            result["sinks"] = {
                sink: {
                    "delivered": len(services.arrivals[sink]),
                    "requests": services.requests[sink],
                    "all_delivered_after_s": (
                        round(max(services.arrivals[sink]) - first, 2)
                        if len(services.arrivals[sink]) >= args.calls
                        else None
                    ),
                }
                for sink in SINKS
            }
    return result


async def until(done: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--delay", type=float, default=0.1, help="each service's answer time, s")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--delivery-concurrency", type=int, default=32)
    args = parser.parse_args()

    services = SlowServices(args.delay)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(services.app, host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    results = {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "service_delay_s": args.delay,
        "delivery_concurrency": args.delivery_concurrency,
        "cpus": os.cpu_count(),
    }
    runs: list[tuple[str, set[str], set[str]]] = [
        ("no_sinks", set(), set()),
        ("healthy", set(), set()),
        ("one_failing", {"teams"}, set()),
        ("one_slow", set(), {"teams"}),
    ]
    for name, failing, slow in runs:
        results[name] = await run(name, services, base, args, failing, slow)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    server.should_exit = True
    await serving
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main())
