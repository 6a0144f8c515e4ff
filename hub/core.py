"""``Hub``: one running hub instance, and everything it owns.

There is no module-level state: ``Hub.from_path()`` builds a plugin manager, loads hub.yaml
against it and builds each business's providers; ``start()`` connects the database, migrates
it where that is automatic, starts the providers and (optionally) a worker. The web app, the
worker and the CLI all work through a ``Hub``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hub._sqlite import Script
from hub.clock import Clock
from hub.config import Business, HubConfig, load_config
from hub.db import Database, DatabaseError
from hub.flow import Flow
from hub.jobs import ClaimedJob, Discard, JobQueue
from hub.models import Lead
from hub.notifications import Notifications
from hub.plugins import Plugins, load_plugins
from hub.providers import CallSource, Kind, Provider, ProviderContext, ReplyParser, Sink, SmsSender
from hub.templating import Templates
from hub.worker import Worker

log = logging.getLogger("hub")


@dataclass
class BusinessProviders:
    """The provider instances one business selected in hub.yaml."""

    call_source: CallSource
    senders: list[SmsSender]
    parsers: list[ReplyParser]
    sinks: list[Sink]
    by_name: dict[str, list[Provider]] = field(default_factory=dict)

    def all(self) -> list[Provider]:
        return [self.call_source, *self.senders, *self.parsers, *self.sinks]


class Hub:
    def __init__(self, config: HubConfig, plugins: Plugins, *, clock: Clock | None = None) -> None:
        self.config = config
        self.plugins = plugins
        self.clock = clock or Clock()
        self.db = Database(config.database, config.base_dir)
        self.jobs = JobQueue(self.db)
        self.templates = Templates(config)
        self.flow = Flow(self)
        self.notifications = Notifications(self)
        self.worker: Worker | None = None
        self._claimed: dict[int, ClaimedJob] = {}  # inserted claimed, until their commit
        self.providers: dict[str, BusinessProviders] = {
            slug: self._build(slug) for slug in config.businesses
        }
        self.started = False

    @classmethod
    def from_path(
        cls, path: Path | str, *, plugins: Plugins | None = None, clock: Clock | None = None
    ) -> Hub:
        plugins = plugins or load_plugins()
        return cls(load_config(path, plugins), plugins, clock=clock)

    def _build(self, slug: str) -> BusinessProviders:
        business = self.config.businesses[slug]
        built: dict[str, list[Provider]] = {}

        def make(kind: Kind, selection_use: str, config: object) -> Provider:
            cls = self.plugins.provider(kind, selection_use)
            provider = cls(config, ProviderContext(self, business, cls.name))
            built.setdefault(cls.name, []).append(provider)
            return provider

        selections = {path: (kind, sel) for path, kind, sel in business.selections()}
        providers = {
            path: make(kind, sel.use, sel.config) for path, (kind, sel) in selections.items()
        }
        senders = [providers["sms_sender"]] + [
            providers[f"sms_sender.fallbacks[{i}]"]
            for i in range(len(business.sms_sender.fallbacks))
        ]
        return BusinessProviders(
            call_source=providers["call_source"],  # type: ignore[arg-type]
            senders=senders,  # type: ignore[arg-type]
            parsers=[providers[f"reply_parsers[{i}]"] for i in range(len(business.reply_parsers))],  # type: ignore[misc]
            sinks=[providers[f"sinks[{i}]"] for i in range(len(business.sinks))],  # type: ignore[misc]
            by_name=built,
        )

    def business_for_job(self, slug: str) -> Business:
        """The business a job is for; a job for one removed from hub.yaml ends there."""
        business = self.config.businesses.get(slug)
        if business is None:
            raise Discard(f"business {slug!r} is no longer configured")
        return business

    async def lead_for_job(self, lead_id: int) -> tuple[Lead, Business]:
        lead = await Lead.get_or_none(id=lead_id)
        if lead is None:
            raise Discard("the lead no longer exists")
        return lead, self.business_for_job(lead.business)

    # -- per-business providers -------------------------------------------------------------------

    def senders(self, slug: str) -> list[SmsSender]:
        return self.providers[slug].senders

    def parsers(self, slug: str) -> list[ReplyParser]:
        return self.providers[slug].parsers

    def sinks(self, slug: str) -> list[Sink]:
        return self.providers[slug].sinks

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self, *, worker: bool | None = None, migrate: bool | None = None) -> None:
        """Connect, migrate (by default on SQLite only), start providers and the worker."""
        await self.db.connect()
        try:
            if migrate if migrate is not None else self.db.dialect == "sqlite":
                await self.db.migrate(progress=log.info)
            else:
                pending = await self.db.pending_migrations()
                if pending:
                    raise DatabaseError(
                        f"the database needs migrating ({', '.join(pending)}): run `hub migrate`"
                    )
            for business in self.providers.values():
                for provider in business.all():
                    await provider.start()
            await self.plugins.call_lifecycle("hub_startup", hub=self)
            if worker if worker is not None else self.config.worker.in_process:
                self.worker = self.make_worker()
                self.worker.start()
        except BaseException:
            await self._close_providers()
            await self.db.close()
            raise
        self.started = True

    def make_worker(self) -> Worker:
        settings = self.config.worker
        return Worker(
            self,
            concurrency=settings.concurrency,
            poll_interval=settings.poll_interval,
            lease=settings.lease,
            rescue_interval=min(15.0, settings.lease / 2),
        )

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        await self.plugins.call_lifecycle("hub_shutdown", hub=self, tolerate=True)
        await self._close_providers()
        await self.db.close()
        self.started = False

    async def _close_providers(self) -> None:
        for business in self.providers.values():
            for provider in business.all():
                try:
                    await provider.close()
                except Exception:
                    log.exception("closing %r failed", provider)

    async def __aenter__(self) -> Hub:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- jobs -------------------------------------------------------------------------------------

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        using: BaseDBAsyncClient | None = None,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
        business: str | None = None,
    ) -> int | None:
        """Queue a job of a registered kind (its retry limit comes from the kind); pass the
        transaction as ``using`` so the job commits with the data that caused it, then hand the
        id to ``after_commit``.

        A job due now, in a process that runs a worker, is inserted already claimed by that
        worker, which runs it as soon as the transaction commits.
        """
        script = self.enqueue_script(
            kind, payload, run_at_ms=run_at_ms, dedupe_key=dedupe_key, business=business
        )
        job_id = await self.db.drive(script, using or self.db.connection)
        if job_id is not None and using is None:  # committed already
            self.after_commit([job_id])
        return job_id

    def enqueue_script(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
        business: str | None = None,
    ) -> Script[int | None]:
        """``enqueue`` as a step of a script: ``job_id = yield from hub.enqueue_script(...)``."""
        registered = self.plugins.job_kinds.get(kind)
        max_attempts = registered.max_attempts if registered else 10
        now_ms = self.clock.now_ms()
        due_now = run_at_ms is None or run_at_ms <= now_ms
        claim_for = self.worker.lease_for_new_job() if self.worker and due_now else None
        rows = yield self.jobs.insert(
            kind,
            payload,
            now_ms=now_ms,
            run_at_ms=run_at_ms,
            dedupe_key=dedupe_key,
            business=business,
            max_attempts=max_attempts,
            claim_for=claim_for,
        )
        if not rows:
            return None
        job_id = int(rows[0]["id"])
        if claim_for is not None:
            self._claimed[job_id] = ClaimedJob(
                job_id, kind, payload, 1, max_attempts, business, claim_for[0]
            )
            while len(self._claimed) > 10_000:  # left by transactions that rolled back
                self._claimed.pop(next(iter(self._claimed)))
        return job_id

    def after_commit(self, job_ids: Iterable[int], *, run_at_ms: int | None = None) -> None:
        """Hand jobs this process just committed to its own worker, if it runs one."""
        if self.worker is None:
            return
        waiting = []
        for job_id in job_ids:
            claimed = self._claimed.pop(job_id, None)
            if claimed is not None:
                self.worker.adopt(claimed)
            else:
                waiting.append(job_id)
        self.worker.notify(waiting, run_at_ms=run_at_ms)
