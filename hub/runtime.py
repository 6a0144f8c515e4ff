"""``Hub``: the composition root of one running hub.

It builds the config, the plugins' providers, the store and the domain services, wires them
together and registers the core's own job kinds with handlers bound to those services. There
is no domain logic here and no module-level state: ``Hub.from_path()`` builds a plugin manager,
loads hub.yaml against it and builds each business's providers; ``start()`` connects the
database, migrates it where that is automatic, starts the providers and (optionally) a worker.
The web app, the worker and the CLI all work through a ``Hub``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from hub.assembly import BusinessProviders, build_providers
from hub.calls import Calls
from hub.clock import Clock
from hub.config import Business, HubConfig, load_config, own_numbers
from hub.context import HubContext, JobContext
from hub.delivery_reports import DeliveryReports
from hub.followups import FollowUps
from hub.forms import PROCESS_FORM, FormLeads
from hub.inbound import Inbound
from hub.jobs import ClaimedJob, JobKind
from hub.keys import (
    NOTIFY,
    NUDGE,
    OWNER_ALERT,
    PROCESS_REPLY,
    REMIND_OWNER,
    SEND_REPLY,
    SUMMARY,
    TEXT_BACK,
)
from hub.leads import Leads
from hub.metrics import Metrics
from hub.notifications import Notifications
from hub.outbound import Outbound
from hub.plugin_host import PluginHost
from hub.plugins import Plugins, load_plugins
from hub.providers import ReplyParser, Sink, SmsSender
from hub.replies import Replies
from hub.store.db import Database, DatabaseError
from hub.store.jobs import JobQueue
from hub.store.reads import Reads
from hub.store.sql import Handover
from hub.templating import Templates
from hub.texting import Texting
from hub.types import CallEvent, CallReceipt, DeliveryReport, InboundSms
from hub.voicemails import PROCESS_TRANSCRIPT, Voicemails
from hub.worker import Worker

log = logging.getLogger("hub")

#: Jobs due further out than this are left to polling rather than timed in memory.
_HANDOVER_HORIZON_MS = 60_000


class Hub:
    def __init__(self, config: HubConfig, plugins: Plugins, *, clock: Clock | None = None) -> None:
        self.config = config
        self.plugins = plugins
        self.clock = clock or Clock()
        businesses = config.businesses
        self.db = Database(config.database, config.base_dir)
        self.db.on_commit = self._hand_over
        #: What ``/metrics`` shows (``hub.metrics``).
        self.metrics = Metrics()
        #: Every job kind this hub runs: the plugins' and the core's own (below).
        self.job_kinds: dict[str, JobKind] = dict(plugins.job_kinds)
        self.jobs = JobQueue(self.db, self.clock, self.job_kinds)
        self.templates = Templates(config)
        self.worker: Worker | None = None
        self.plugin_host = PluginHost(
            clock=self.clock,
            public_url=lambda: self.config.public_url,
            businesses=businesses,
            templates=self.templates,
            jobs=self.jobs,
            job_kinds=self.job_kinds,
            providers=lambda slug: self.providers[slug].all() if slug in self.providers else [],
            receive_call=self.receive_call,
            receive_sms=self.receive_sms,
            receive_delivery_report=self.receive_delivery_report,
            send_text=lambda business, to, body, reference: self.texting.send_direct(
                business, to, body, reference
            ),
            tell_owner=self.tell_owner,
            note_on_lead=lambda business, provider, lead_id, text, url: self.leads.note(
                business, lead_id, text, url=url, actor=provider
            ),
            set_lead_status=lambda business, provider, lead_id, status: self.leads.set_status_of(
                business, lead_id, status, actor=provider
            ),
            attach_transcript=lambda business, provider, call_id, text: self.voicemails.attach(
                business, provider, call_id, text
            ),
        )
        self.providers: dict[str, BusinessProviders] = {
            slug: build_providers(business, plugins, self.plugin_host)
            for slug, business in businesses.items()
        }
        self.reads = Reads(self.db, {slug: b.name for slug, b in businesses.items()})

        # The domain services, each given what it needs.
        db, jobs, clock, templates = self.db, self.jobs, self.clock, self.templates
        metrics = self.metrics
        self.notifications = Notifications(
            db, jobs, clock, templates, businesses, self.sinks, metrics
        )
        self.texting = Texting(
            db, jobs, clock, self.senders, self.notifications, own_numbers(businesses.values()),
            metrics,
        )  # fmt: skip
        self.leads = Leads(db, jobs, clock, businesses, self.notifications)
        self.followups = FollowUps(
            db, jobs, clock, templates, businesses, self.texting, self.notifications
        )
        self.outbound = Outbound(jobs, templates, businesses, self.texting)
        self.replies = Replies(
            db, jobs, clock, businesses, self.parsers, self.followups, self.notifications,
            self.outbound, self.leads,
        )  # fmt: skip
        self.inbound = Inbound(db, jobs, clock, self.replies, self.outbound, self.notifications)
        self.delivery_reports = DeliveryReports(
            db, clock, businesses, self.texting, self.notifications
        )
        self.calls = Calls(
            db, jobs, clock, templates, businesses, self.texting, self.notifications,
            self.followups, self.leads,
        )  # fmt: skip
        self.forms = FormLeads(
            db, jobs, clock, businesses, self.leads, self.replies, self.notifications,
            self.followups, self.outbound,
        )  # fmt: skip
        self.voicemails = Voicemails(
            db, jobs, clock, businesses, self.leads, self.replies, self.notifications,
            self.followups,
        )  # fmt: skip
        self._register_core_jobs()
        self.started = False

    def _register_core_jobs(self) -> None:
        """The core's job kinds, bound to this hub's services."""

        def bound(run: Callable[[ClaimedJob], Awaitable[None]]) -> Any:
            async def handler(context: JobContext, job: ClaimedJob) -> None:
                await run(job)

            return handler

        # Texts retry for about half an hour (ten backoffs of 5 s doubling to a 10-minute cap,
        # jittered: 20 to 40 minutes), then the owner hears the text failed; notifications
        # keep trying for hours, since a lead nobody hears about is a lead lost.
        texts = {
            TEXT_BACK: self.calls.run_text_back,
            SEND_REPLY: self.outbound.run_send_reply,
            NUDGE: self.followups.run_nudge,
            OWNER_ALERT: self.followups.run_owner_alert,
        }
        kinds = [
            # A text's run waits on at most a line-type lookup, a look for an earlier attempt
            # and a send per sender, each bounded by the sender's timeout (10 s by default).
            JobKind(
                name,
                bound(run),
                max_attempts=11,
                backoff_base=5,
                backoff_cap=600,
                deadline=90,
                on_give_up=self.texting.gave_up,
            )
            for name, run in texts.items()
        ]
        kinds += [
            JobKind(
                NOTIFY,
                bound(self.notifications.run),
                10,
                backoff_base=10,
                backoff_cap=3600,
                pool="deliveries",
                lane="sink",
            ),
            JobKind(PROCESS_REPLY, bound(self.replies.run_process_reply), max_attempts=5),
            JobKind(REMIND_OWNER, bound(self.followups.run_remind_owner), max_attempts=5),
            JobKind(SUMMARY, bound(self.followups.run_summary), max_attempts=5),
            JobKind(PROCESS_FORM, bound(self.forms.run_process_form), max_attempts=5),
            JobKind(
                PROCESS_TRANSCRIPT, bound(self.voicemails.run_process_transcript), max_attempts=5
            ),
        ]
        for kind in kinds:
            self.job_kinds[kind.name] = kind

    @classmethod
    def from_path(
        cls, path: Path | str, *, plugins: Plugins | None = None, clock: Clock | None = None
    ) -> Hub:
        plugins = plugins or load_plugins()
        return cls(load_config(path, plugins), plugins, clock=clock)

    def job_context(self, kind: str) -> JobContext:
        """What a handler of ``kind`` is given, scoped to the plugin that registered it."""
        return JobContext(self.plugin_host, self.plugins.job_owner(kind))

    # -- per-business providers -------------------------------------------------------------------

    def senders(self, slug: str) -> list[SmsSender]:
        return self.providers[slug].senders

    def parsers(self, slug: str) -> list[ReplyParser]:
        return self.providers[slug].parsers

    def sinks(self, slug: str) -> list[Sink]:
        return self.providers[slug].sinks

    # -- what providers call (the runtime behind ``ProviderContext``) -----------------------------

    async def receive_call(
        self, business: Business, provider: str, event: CallEvent
    ) -> CallReceipt:
        return await self.calls.receive_call(business, provider, event)

    async def receive_sms(self, business: Business, provider: str, sms: InboundSms) -> None:
        await self.inbound.receive_sms(business, provider, sms)

    async def receive_delivery_report(
        self, business: Business, provider: str, report: DeliveryReport
    ) -> None:
        await self.delivery_reports.receive_delivery_report(business, provider, report)

    async def tell_owner(
        self, business: Business, provider: str, key: str, text: str, lead_id: int
    ) -> bool:
        return await self.notifications.tell_owner(business, provider, key, text, lead_id)

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
        business: str | None = None,
    ) -> int | None:
        """Queue a job of a registered kind (its retry limit comes from the kind) as a unit of
        work of its own; a job due now goes straight to this process's worker."""
        return await self.jobs.enqueue(
            kind, payload, run_at_ms=run_at_ms, dedupe_key=dedupe_key, business=business
        )

    async def cancel_jobs(self, keys: Iterable[str]) -> int:
        """Cancel jobs still waiting under these dedupe keys."""
        return await self.jobs.cancel(keys)

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
            await self.plugins.call_lifecycle("hub_startup", context=HubContext(self.plugin_host))
            if worker if worker is not None else self.config.worker.in_process:
                self.worker = self.make_worker()
                self.jobs.claimer = self.worker.lease_for_new_job
                self.worker.start()
        except BaseException:
            await self._close_providers()
            await self.db.close()
            raise
        self.started = True

    def make_worker(self) -> Worker:
        settings = self.config.worker
        return Worker(
            self.jobs,
            self.job_kinds,
            self.clock,
            concurrency=settings.concurrency,
            pools={"deliveries": settings.delivery_concurrency},
            poll_interval=settings.poll_interval,
            lease=settings.lease,
            rescue_interval=min(15.0, settings.lease / 2),
            keep_finished=settings.keep_finished_days * 86400.0,
            context_for=self.job_context,
            failures=self.metrics.job_failures,
        )

    async def stop(self) -> None:
        if self.worker is not None:
            self.jobs.claimer = None
            await self.worker.stop()
            self.worker = None
        await self.plugins.call_lifecycle(
            "hub_shutdown", context=HubContext(self.plugin_host), tolerate=True
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

    # -- jobs a unit of work committed ------------------------------------------------------------

    def _hand_over(self, handovers: Sequence[Handover]) -> None:
        """Jobs a unit of work just committed: those inserted already claimed run now; those
        due soon are claimed when due; later ones are left to polling."""
        worker = self.worker
        if worker is None:
            return
        horizon = self.clock.now_ms() + _HANDOVER_HORIZON_MS
        waiting: dict[int, list[int]] = {}
        for handover in handovers:
            if handover.claimed is not None:
                worker.adopt(handover.claimed)
            elif handover.run_at_ms <= horizon:
                waiting.setdefault(handover.run_at_ms, []).append(handover.job_id)
        for run_at_ms, ids in waiting.items():
            worker.notify(ids, run_at_ms=run_at_ms)
