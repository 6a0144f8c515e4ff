"""Telling the owner: one delivery row and one durable job per sink, and the wording.

Each sink gets its own job, so a failing CRM neither blocks nor repeats the email. The words
come from ``templates/notify/KIND.txt``: its first line is ``Subject: ...``, the rest the body.
Sinks get both, plus the lead itself for bodies of their own (HTML email, CRM fields).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hub import leads
from hub._sqlite import Script
from hub.config import Business
from hub.jobs import ClaimedJob, Discard, Retry
from hub.models import Delivery, Lead
from hub.types import DeliveryResult, DeliveryStatus, Notification

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger("hub.notify")

NOTIFY = "notify"


class Notifications:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def enqueue(
        self,
        business: Business,
        lead_id: int,
        kind: str,
        context: dict[str, Any],
        *,
        cause: str,
        using: BaseDBAsyncClient,
    ) -> list[int]:
        """One delivery row and one job per sink, in the caller's transaction. ``cause`` names
        what the notification is about, so the same cause never notifies twice."""
        script = self.enqueue_script(business, lead_id, kind, context, cause=cause)
        return await self.hub.db.drive(script, using)

    def enqueue_script(
        self, business: Business, lead_id: int, kind: str, context: dict[str, Any], *, cause: str
    ) -> Script[list[int]]:
        """``enqueue`` as a step of a script."""
        job_ids = []
        now = self.hub.clock.now()
        for index, selection in enumerate(business.sinks):
            [delivery] = yield (
                "INSERT INTO hub_delivery (business, lead_id, sink, sink_index, kind, status,"
                " attempts, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?) RETURNING id",
                [business.slug, lead_id, selection.use, index, kind, now],
            )
            job_id = yield from self.hub.enqueue_script(
                NOTIFY,
                {"delivery_id": delivery["id"], **context},
                dedupe_key=f"{NOTIFY}:{cause}:{kind}:{index}",
                business=business.slug,
            )
            if job_id is not None:
                job_ids.append(job_id)
        return job_ids

    async def build(
        self, business: Business, lead: Lead, kind: str, context: dict[str, Any]
    ) -> Notification:
        summary = await leads.summary(lead, business)
        urgent = bool(context.get("urgent")) or summary.urgency == "emergency"
        rendered = self.hub.templates.render(
            f"notify/{kind}.txt",
            business,
            lead=summary,
            urgent=urgent,
            url=None,
            texted=context.get("texted", False),
            reason=context.get("reason"),
        )
        first, _, rest = rendered.partition("\n")
        if first.lower().startswith("subject:"):
            subject, text = first.split(":", 1)[1].strip(), rest.strip()
        else:
            subject, text = f"{business.name}: lead #{lead.id}", rendered
        return Notification(kind=kind, lead=summary, subject=subject, text=text, urgent=urgent)

    async def run(self, job: ClaimedJob) -> None:
        """The ``notify`` job: deliver one notification through one sink."""
        hub = self.hub
        delivery = await Delivery.get_or_none(id=job.payload["delivery_id"])
        if delivery is None:
            raise Discard("the delivery record no longer exists")
        if delivery.status == "delivered":
            return
        business = hub.config.businesses.get(delivery.business)
        sinks = hub.sinks(delivery.business) if business else []
        if (
            business is None
            or delivery.sink_index >= len(sinks)
            or sinks[delivery.sink_index].name != delivery.sink
        ):
            delivery.status, delivery.error = "failed", "the sink is no longer configured"
            await delivery.save()
            raise Discard(delivery.error)
        sink = sinks[delivery.sink_index]
        lead = await Lead.get(id=delivery.lead_id)
        notification = await self.build(business, lead, delivery.kind, job.payload)
        try:
            result = await sink.deliver(notification)
        except Exception as exc:
            log.exception("sink %r raised", sink.name)
            result = DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        delivery.attempts += 1
        delivery.error = result.error
        if result.status == DeliveryStatus.DELIVERED:
            delivery.status, delivery.reference = "delivered", result.reference
            delivery.delivered_at = hub.clock.now()
        elif result.status == DeliveryStatus.RETRY and job.attempt < job.max_attempts:
            await delivery.save()
            raise Retry(result.error or "the sink asked to retry", after=result.retry_after)
        else:
            delivery.status = "failed"
        async with in_transaction() as tx:
            await delivery.save(using_db=tx)
            await leads.record(
                lead.id,
                "notified" if delivery.status == "delivered" else "notify_failed",
                at=hub.clock.now(),
                using=tx,
                sink=sink.name,
                notification=delivery.kind,
                delivery_id=delivery.id,
                error=delivery.error,
            )
