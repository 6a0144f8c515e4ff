"""What ``/metrics`` shows, in Prometheus's text format: webhooks by route and status, texts by
business, provider and outcome, send and sink delivery latency, job failures, and the job
queue's depth and oldest due job per kind (read from the job table when scraped).

Each hub has its own registry, never the process-wide default: tests (and a process that
builds more than one hub) keep their counts apart. Counters are per process: a worker run
apart (``hub worker``) counts its texts in its own process, which serves no ``/metrics``; the
queue figures come from the database and are the same wherever they are read.

Who may read it is ``metrics:`` in hub.yaml (``MetricsSettings``): loopback only by default.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.store.sql import Sql

if TYPE_CHECKING:
    from hub.store.db import Database

#: Seconds: a provider answers a send in about 0.1-1 s; a timeout is 10 s by default.
_SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)

QUEUE = Sql(
    "SELECT kind, state, COUNT(*) AS n FROM hub_job"
    " WHERE state IN ('available', 'running', 'failed') GROUP BY kind, state"
)
DUE = Sql(
    "SELECT kind, COUNT(*) AS n, MIN(run_at_ms) AS oldest FROM hub_job"
    " WHERE state = 'available' AND run_at_ms <= {} GROUP BY kind"
)


@dataclass(frozen=True, slots=True)
class QueueRow:
    kind: str
    state: str
    count: int


@dataclass(frozen=True, slots=True)
class DueRow:
    kind: str
    count: int
    oldest_age: float


class QueueCollector(Collector):
    """The job queue as of the last ``refresh`` (the scrape awaits it first: a collector
    itself cannot wait on the database)."""

    def __init__(self) -> None:
        self.rows: Sequence[QueueRow] = ()
        self.due: Sequence[DueRow] = ()

    async def refresh(self, db: Database, *, now_ms: int) -> None:
        rows = await db.read(QUEUE.bind(db.dialect))
        due = await db.read(DUE.bind(db.dialect, now_ms))
        self.rows = [QueueRow(row["kind"], row["state"], int(row["n"])) for row in rows]
        self.due = [
            DueRow(row["kind"], int(row["n"]), max(0.0, (now_ms - int(row["oldest"])) / 1000))
            for row in due
        ]

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "hub_jobs",
            "Jobs waiting, running or failed for good, by kind",
            labels=["kind", "state"],
        )
        for row in self.rows:
            jobs.add_metric([row.kind, row.state], row.count)
        due = GaugeMetricFamily("hub_jobs_due", "Jobs due now and not yet run", labels=["kind"])
        age = GaugeMetricFamily(
            "hub_jobs_oldest_due_seconds",
            "How long the oldest due job of a kind has waited past its time",
            labels=["kind"],
        )
        for waiting in self.due:
            due.add_metric([waiting.kind], waiting.count)
            age.add_metric([waiting.kind], waiting.oldest_age)
        yield from (jobs, due, age)


class Metrics:
    """One hub's metrics: the services record into it; ``/metrics`` renders it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.webhooks = Counter(
            "hub_webhooks", "Webhooks answered, by route and HTTP status", ["route", "status"],
            registry=registry,
        )  # fmt: skip
        self.texts = Counter(
            "hub_texts",
            "Texts by outcome (sent, failed, skipped, retry)",
            ["business", "provider", "outcome"],
            registry=registry,
        )
        self.send_seconds = Histogram(
            "hub_send_seconds", "How long a provider took to answer a send", ["provider"],
            buckets=_SEND_BUCKETS, registry=registry,
        )  # fmt: skip
        self.job_failures = Counter(
            "hub_job_failures", "Jobs that failed for good, by kind", ["kind"], registry=registry
        )
        self.deliveries = Counter(
            "hub_sink_deliveries", "Deliveries to sinks by outcome (delivered, failed, retry)",
            ["sink", "outcome"], registry=registry,
        )  # fmt: skip
        self.delivery_seconds = Histogram(
            "hub_sink_delivery_seconds", "How long a sink took to take an event", ["sink"],
            buckets=_SEND_BUCKETS, registry=registry,
        )  # fmt: skip
        self.queue = QueueCollector()
        registry.register(self.queue)

    async def render(self, db: Database, *, now_ms: int) -> bytes:
        from prometheus_client import generate_latest

        await self.queue.refresh(db, now_ms=now_ms)
        return generate_latest(self.registry)


def allowed(client: str | None, networks: Sequence[Any]) -> bool:
    """Whether a request from ``client`` (an IP address) may read ``/metrics``."""
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in networks)
