"""``Hub``: one running hub instance, and everything it owns.

There is no module-level state: ``Hub.from_path()`` builds a plugin manager, loads hub.yaml
against it and builds each business's providers; ``start()`` connects the database, migrates
it where that is automatic, starts the providers and (optionally) a worker. The web app, the
worker and the CLI all work through a ``Hub``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from hub import plugin_state
from hub._sqlite import Script
from hub.clock import Clock
from hub.config import Business, HubConfig, load_config
from hub.context import JSON, BusinessView, HubContext, JobContext, ProviderContext
from hub.db import Database, DatabaseError
from hub.flow import Flow
from hub.jobs import ClaimedJob, Discard, JobQueue
from hub.models import Call, Contact, InboxEvent, Lead
from hub.notifications import Notifications
from hub.plugins import Plugins, load_plugins
from hub.providers import CallSource, Kind, Provider, ReplyParser, Sink, SmsSender
from hub.templating import Templates
from hub.types import CallEvent, CallReceipt, DeliveryReport, InboundSms
from hub.worker import Worker

log = logging.getLogger("hub")


@dataclass
class BusinessProviders:
    """The provider instances one business selected in hub.yaml."""

    call_source: CallSource
    senders: list[SmsSender]
    parsers: list[ReplyParser]
    sinks: list[Sink]
    by_name: dict[str, list[Provider[Any]]] = field(default_factory=dict)

    def all(self) -> list[Provider[Any]]:
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
        self.runtime = HubRuntime(self)
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
        built: dict[str, list[Provider[Any]]] = {}
        view = business_view(business)

        def make(kind: Kind, selection_use: str, config: Any) -> Provider[Any]:
            cls = self.plugins.provider(kind, selection_use)
            plugin = self.plugins.owner(kind, cls.name)
            provider = cls(config, ProviderContext(self.runtime, view, cls.name, plugin))
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
            await self.plugins.call_lifecycle("hub_startup", context=HubContext(self.runtime))
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
        await self.plugins.call_lifecycle(
            "hub_shutdown", context=HubContext(self.runtime), tolerate=True
        )
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

    def job_context(self, kind: str) -> JobContext:
        """What a handler of ``kind`` is given, scoped to the plugin that registered it."""
        return JobContext(self.runtime, self.plugins.job_owner(kind))

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
            self.after_commit([job_id], run_at_ms=run_at_ms)
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


# -- the plugin-facing runtime --------------------------------------------------------------------

P = TypeVar("P", bound=Provider[Any])


def business_view(business: Business) -> BusinessView:
    return BusinessView(
        slug=business.slug,
        name=business.name,
        timezone=business.timezone,
        numbers=tuple(business.numbers),
        region=business.region,
        forward_to=business.forward_to,
        owner_email=business.owner.email,
    )


class HubRuntime:
    """``hub.context.Runtime`` over a ``Hub``: what plugin contexts forward to."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @property
    def clock(self) -> Clock:
        return self.hub.clock

    @property
    def public_url(self) -> str:
        return self.hub.config.public_url

    def businesses(self) -> Sequence[BusinessView]:
        return [business_view(b) for b in self.hub.config.businesses.values()]

    def is_open(self, business: str, at: datetime) -> bool:
        return self.hub.config.businesses[business].is_open(at)

    def render(self, business: str, template: str, context: Mapping[str, Any]) -> str:
        found = self.hub.config.businesses[business]
        return self.hub.templates.render(template, business=found, **context)

    def providers(self, business: str, cls: type[P]) -> list[P]:
        built = self.hub.providers.get(business)
        return [p for p in (built.all() if built else ()) if isinstance(p, cls)]

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        business: str | None,
        run_at_ms: int | None,
        dedupe_key: str | None,
    ) -> int | None:
        if kind not in self.hub.plugins.job_kinds:
            # Its jobs would wait forever for a handler (and get the default retry policy).
            raise LookupError(f"no job kind {kind!r} is registered")
        return await self.hub.enqueue(
            kind, payload, business=business, run_at_ms=run_at_ms, dedupe_key=dedupe_key
        )

    async def cancel_jobs(self, keys: Sequence[str]) -> int:
        return await self.hub.jobs.cancel(keys, now_ms=self.hub.clock.now_ms())

    async def mark(self, provider: str, key: str) -> bool:
        try:
            await InboxEvent.create(provider=provider, event_key=f"mark:{key}"[:255])
        except IntegrityError:
            return False
        return True

    async def is_marked(self, provider: str, key: str) -> bool:
        return await InboxEvent.filter(provider=provider, event_key=f"mark:{key}"[:255]).exists()

    async def cached_line_type(self, business: str, phone: str, max_age: timedelta) -> str | None:
        contact = await Contact.get_or_none(business=business, phone=phone)
        if contact is None or contact.line_type is None or contact.line_type_checked_at is None:
            return None
        if contact.line_type_checked_at < self.hub.clock.now() - max_age:
            return None
        return contact.line_type

    async def remember_line_type(self, business: str, phone: str, line_type: str) -> None:
        await Contact.filter(business=business, phone=phone).update(
            line_type=line_type[:32], line_type_checked_at=self.hub.clock.now()
        )

    async def attach_recording(
        self, business: str, provider: str, call_id: str, recording_url: str
    ) -> bool:
        updated = await Call.filter(
            business=business,
            provider=provider,
            provider_call_id=call_id,
            recording_url__isnull=True,
        ).update(recording_url=recording_url[:512])
        return bool(updated)

    async def receive_call(self, business: str, provider: str, event: CallEvent) -> CallReceipt:
        found = self.hub.config.businesses[business]
        return await self.hub.flow.receive_call(found, provider, event)

    async def receive_sms(self, business: str, provider: str, sms: InboundSms) -> None:
        await self.hub.flow.receive_sms(self.hub.config.businesses[business], provider, sms)

    async def receive_delivery_report(
        self, business: str, provider: str, report: DeliveryReport
    ) -> None:
        found = self.hub.config.businesses[business]
        await self.hub.flow.receive_delivery_report(found, provider, report)

    async def state_get(self, plugin: str, business: str, key: str) -> JSON:
        value: JSON = await plugin_state.get(plugin, business, key)
        return value

    async def state_set(self, plugin: str, business: str, key: str, value: JSON) -> None:
        await plugin_state.put(plugin, business, key, value, now=self.hub.clock.now())

    async def state_compare_and_set(
        self, plugin: str, business: str, key: str, expected: JSON, new: JSON
    ) -> bool:
        return await plugin_state.compare_and_set(
            plugin, business, key, expected, new, now=self.hub.clock.now()
        )

    async def state_delete(self, plugin: str, business: str, key: str) -> bool:
        return await plugin_state.delete(plugin, business, key)
