"""Telling the owner: one delivery row and one durable job per sink, and the wording.

Each sink gets its own job, so a failing CRM neither blocks nor repeats the email. The words
come from ``templates/notify/KIND.txt``: its first line is ``Subject: ...``, the rest the body.
Sinks get both, plus the lead itself (a ``LeadView``) for bodies of their own (HTML email, CRM
fields).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hub.clock import Clock
from hub.config import Business
from hub.jobs import ClaimedJob, Discard, Retry
from hub.providers import Sink
from hub.store import deliveries, leads
from hub.store.db import Database
from hub.store.jobs import JobQueue
from hub.store.sql import Script
from hub.templating import Templates, template_context
from hub.types import DeliveryResult, DeliveryStatus, Notification
from hub.views import LeadView

log = logging.getLogger("hub.notify")

NOTIFY = "notify"


class Notifications:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        templates: Templates,
        businesses: Mapping[str, Business],
        sinks: Callable[[str], Sequence[Sink]],
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock
        self.templates = templates
        self.businesses = businesses
        self.sinks = sinks

    def enqueue(
        self, business: Business, lead_id: int, kind: str, context: dict[str, Any], *, cause: str
    ) -> Script[None]:
        """One delivery row and one job per sink, as a step of a unit of work (``yield from``
        in a script, ``await uow.run(...)`` otherwise). ``cause`` names what the notification
        is about, so the same cause never notifies twice."""
        now = self.clock.now()
        for index, selection in enumerate(business.sinks):
            delivery_id = yield from deliveries.insert(
                self.db.dialect, business.slug, lead_id, selection.use, index, kind, now
            )
            yield from self.jobs.enqueue(
                NOTIFY,
                {"delivery_id": delivery_id, **context},
                dedupe_key=f"{NOTIFY}:{cause}:{kind}:{index}",
                business=business.slug,
            )

    def build(
        self, business: Business, lead: LeadView, kind: str, context: dict[str, Any]
    ) -> Notification:
        urgent = bool(context.get("urgent")) or lead.urgency == "emergency"
        rendered = self.templates.render(
            f"notify/{kind}.txt",
            business,
            **template_context(
                f"notify/{kind}.txt",
                lead,
                urgent=urgent,
                texted=context.get("texted", False),
                reason=context.get("reason"),
                url=None,
            ),
        )
        first, _, rest = rendered.partition("\n")
        if first.lower().startswith("subject:"):
            subject, text = first.split(":", 1)[1].strip(), rest.strip()
        else:
            subject, text = f"{business.name}: lead #{lead.id}", rendered
        return Notification(kind=kind, lead=lead, subject=subject, text=text, urgent=urgent)

    async def run(self, job: ClaimedJob) -> None:
        """The ``notify`` job: deliver one notification through one sink."""
        delivery = await deliveries.get(job.payload["delivery_id"])
        if delivery is None:
            raise Discard("the delivery record no longer exists")
        if delivery.status == "delivered":
            return
        business = self.businesses.get(delivery.business)
        sinks = self.sinks(delivery.business) if business else []
        if (
            business is None
            or delivery.sink_index >= len(sinks)
            or sinks[delivery.sink_index].name != delivery.sink
        ):
            delivery.status, delivery.error = "failed", "the sink is no longer configured"
            await deliveries.save(delivery)
            raise Discard(delivery.error)
        sink = sinks[delivery.sink_index]
        lead = await leads.view(self.db, delivery.lead_id, business.name)
        if lead is None:
            raise Discard("the lead no longer exists")
        notification = self.build(business, lead, delivery.kind, job.payload)
        try:
            result = await sink.deliver(notification)
        except Exception as exc:
            log.exception("sink %r raised", sink.name)
            result = DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        delivery.attempts += 1
        delivery.error = result.error
        if result.status == DeliveryStatus.DELIVERED:
            delivery.status, delivery.reference = "delivered", result.reference
            delivery.delivered_at = self.clock.now()
        elif result.status == DeliveryStatus.RETRY and job.attempt < job.max_attempts:
            await deliveries.save(delivery)
            raise Retry(result.error or "the sink asked to retry", after=result.retry_after)
        else:
            delivery.status = "failed"
        async with self.db.transaction() as uow:
            await deliveries.save(delivery, uow)
            await uow.run(
                leads.record(
                    uow.dialect,
                    lead.id,
                    "notified" if delivery.status == "delivered" else "notify_failed",
                    at=self.clock.now(),
                    sink=sink.name,
                    notification=delivery.kind,
                    delivery_id=delivery.id,
                    error=delivery.error,
                )
            )
