"""Events for sinks: one delivery row and one durable job per subscribed sink, and the wording
of the owner notifications.

Each sink gets its own job, so a failing CRM neither blocks nor repeats the email. A sink hears
the events its class asks for (``Sink.events``) or those its selection in hub.yaml names
(``on:``); an event no sink of the business hears costs nothing. The words of an owner
notification come from ``templates/notify/KIND.txt``: its first line is ``Subject: ...``, the
rest the body; the event carries both (``Event.notification``) plus the lead itself.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hub.clock import Clock
from hub.config import Business
from hub.events import Change, Event, EventKind
from hub.jobs import ClaimedJob, Discard, Retry
from hub.metrics import Metrics
from hub.models import Delivery
from hub.providers import Sink
from hub.store import calls, contacts, deliveries, leads, messages
from hub.store.db import Database
from hub.store.jobs import JobQueue
from hub.store.sql import Script
from hub.templating import Templates, template_context
from hub.types import DeliveryResult, DeliveryStatus, Notification
from hub.views import LeadView, MessageView

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
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        self.jobs = jobs
        self.clock = clock
        self.templates = templates
        self.businesses = businesses
        self.sinks = sinks
        self._subscribers: dict[str, list[tuple[int, frozenset[EventKind]]]] = {}

    def subscribers(self, business: Business, kind: EventKind) -> list[int]:
        """The indexes of the business's sinks that hear ``kind``."""
        wanted = self._subscribers.get(business.slug)
        if wanted is None:
            wanted = self._subscribers[business.slug] = [
                (index, selection.events(sink.events, sink.accepts))
                for index, (selection, sink) in enumerate(
                    zip(business.sinks, self.sinks(business.slug), strict=True)
                )
            ]
        return [index for index, kinds in wanted if kind in kinds]

    def emit(
        self,
        business: Business,
        kind: EventKind,
        lead_id: int,
        *,
        cause: str,
        version: int = 0,
        data: dict[str, Any] | None = None,
        exclude: str | None = None,
    ) -> Script[None]:
        """Queue ``kind`` for every sink that hears it, as a step of a unit of work (``yield
        from`` in a script, ``await uow.run(...)`` otherwise): a delivery row and a job each.
        ``cause`` names what the event is about, so the same cause never emits twice; ``data``
        rides in the job (``actor``, ``changes``, ``message_id``, ``call_id``, a notification's
        ``reason``...). ``exclude`` names a sink (``use:``) that does not get it: a sink's own
        problem is not told through sinks of its kind, which may share the fault."""
        indexes = [
            index
            for index in self.subscribers(business, kind)
            if exclude is None or business.sinks[index].use != exclude
        ]
        if not indexes:
            return
        now, event_id = self.clock.now(), uuid.uuid4().hex
        for index in indexes:
            delivery_id = yield from deliveries.insert(
                self.db.dialect,
                business.slug,
                lead_id,
                business.sinks[index].use,
                index,
                kind,
                now,
                event_id=event_id,
                lead_version=version,
            )
            yield from self.jobs.enqueue(
                NOTIFY,
                {"delivery_id": delivery_id, "sink": index, **(data or {})},
                dedupe_key=f"{NOTIFY}:{cause}:{kind}:{index}",
                business=business.slug,
            )

    def enqueue(
        self,
        business: Business,
        lead_id: int,
        kind: str,
        context: dict[str, Any],
        *,
        cause: str,
        exclude: str | None = None,
    ) -> Script[None]:
        """The owner notification ``kind`` (``summary``, ``urgent``...) as an event."""
        yield from self.emit(
            business,
            EventKind.notification(kind),
            lead_id,
            cause=cause,
            data=context,
            exclude=exclude,
        )

    async def tell_owner(
        self, business: Business, provider: str, key: str, text: str, lead_id: int
    ) -> bool:
        """``notify.problem`` with ``text`` for ``lead_id``, once per provider, business and
        ``key``, through every sink but the provider's kind; ``True`` if this call queued it.

        The mark is written after the event is queued: a crash in between tells the owner
        twice, which is better than never."""
        mark = f"tell_owner:{key}"
        if await contacts.is_marked(business.slug, provider, mark):
            return False
        async with self.db.transaction() as uow:
            await uow.run(
                self.enqueue(
                    business,
                    lead_id,
                    "problem",
                    {"reason": text},
                    cause=f"problem:{provider}:{key}",
                    exclude=provider,
                )
            )
        return await contacts.mark(business.slug, provider, mark)

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
        """The ``notify`` job: deliver one event through one sink."""
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
        event = await self.event(business, delivery, lead, job.payload, attempt=job.attempt)
        started = time.monotonic()
        try:
            result = await sink.deliver(event)
        except Exception as exc:
            log.exception("sink %r raised", sink.name)
            result = DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        self.metrics.delivery_seconds.labels(sink.name).observe(time.monotonic() - started)
        self.metrics.deliveries.labels(sink.name, str(result.status.value)).inc()
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
                    event=delivery.kind,
                    delivery_id=delivery.id,
                    error=delivery.error,
                )
            )

    async def event(
        self,
        business: Business,
        delivery: Delivery,
        lead: LeadView,
        data: dict[str, Any],
        *,
        attempt: int = 1,
    ) -> Event:
        """The event a delivery stands for, as its sink receives it."""
        kind = EventKind(delivery.kind)
        message = call = None
        if data.get("message_id") is not None:
            row = await messages.get(int(data["message_id"]))
            if row is not None:
                message = MessageView(
                    id=row.id,
                    direction=str(row.direction),
                    body=row.body,
                    purpose=row.purpose,
                    status=row.status,
                    provider_message_id=row.provider_message_id,
                    at=row.created_at,
                )
        if data.get("call_id") is not None:
            call = await calls.get(int(data["call_id"]))
        notification = None
        if kind.is_notification:
            notification = self.build(business, lead, kind.value.split(".", 1)[1], data)
        return Event(
            kind=kind,
            # Stable across retries: the row is written once, with the event.
            id=f"{delivery.event_id or f'delivery{delivery.id}'}.{delivery.sink_index}",
            business=business.slug,
            at=delivery.created_at,
            lead=lead,
            lead_version=delivery.lead_version,
            actor=str(data.get("actor", "system")),
            changes={
                name: Change(before, after)
                for name, (before, after) in data.get("changes", {}).items()
            },
            message=message,
            call=call,
            notification=notification,
            attempt=attempt,
        )
