"""Web-form leads: a visitor's request from the business's website becomes a lead through the
same pipeline as a call.

``submit`` is one unit of work: the visitor's open lead (found by phone, so a repeat customer
lands on the lead they already have, or a new one with source ``web form``), the fields they
typed (``Leads.change``: the timeline and ``lead.created`` / ``lead.updated`` for sinks), their
message as an inbound text of the conversation, and a ``process_form`` job. The job runs the
business's reply parsers over the message, as over a first reply, to fill what the fields left
empty (service, ZIP, urgency, callback window); then the owner gets the summary (and an
emergency alert, as for a text), and the visitor a thank-you text only if they ticked the SMS
consent box, through ``Texting`` with every rule a text meets.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.clock import Clock
from hub.config import Business
from hub.events import EventKind
from hub.followups import FollowUps
from hub.jobs import ClaimedJob
from hub.leads import Leads, lead_for_job
from hub.models import Direction
from hub.notifications import Notifications
from hub.outbound import Outbound
from hub.replies import LEAD_FIELDS, Replies
from hub.store import leads as lead_rows
from hub.store import messages
from hub.store.db import Database
from hub.store.jobs import JobQueue
from hub.types import MessageStatus

PROCESS_FORM = "process_form"
#: A web form lead's source.
WEB_FORM = "web form"


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """What a visitor sent, already checked and bounded (``hub.webforms``)."""

    phone: str
    name: str | None = None
    email: str | None = None
    service: str | None = None
    zip: str | None = None
    message: str | None = None
    #: The callback window in the visitor's words ("weekday mornings").
    callback: str | None = None
    #: They ticked the box agreeing to texts.
    consent: bool = False


class FormLeads:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        businesses: Mapping[str, Business],
        leads: Leads,
        replies: Replies,
        notifications: Notifications,
        followups: FollowUps,
        outbound: Outbound,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock
        self.businesses = businesses
        self.leads = leads
        self.replies = replies
        self.notifications = notifications
        self.followups = followups
        self.outbound = outbound

    async def submit(self, business: Business, form: FormSubmission) -> int:
        """Record a submission as the visitor's lead and queue what follows; the lead's id."""
        key = uuid.uuid4().hex[:16]
        now = self.clock.now()
        fields = {
            name: value
            for name, value in (
                ("name", form.name), ("email", form.email), ("service", form.service),
                ("zip", form.zip),
            )
            if value
        }  # fmt: skip
        async with self.db.transaction() as uow:
            lead, created = await lead_rows.open_lead(uow, business.slug, form.phone, WEB_FORM)
            cause = f"form:{key}"
            if created:
                await uow.run(
                    self.notifications.emit(
                        business, EventKind.LEAD_CREATED, lead.id, cause=cause,
                        version=lead.version, data={"actor": "customer"},
                    )
                )  # fmt: skip
            await self.leads.change(uow, lead, actor="customer", fields=fields)
            message_id = None
            if form.message:
                message = await messages.insert_inbound(
                    uow,
                    business=business.slug,
                    lead_id=lead.id,
                    phone=form.phone,
                    direction=Direction.INBOUND,
                    purpose="form",
                    body=form.message,
                    provider="form",
                    status=str(MessageStatus.RECEIVED),
                    status_rank=MessageStatus.RECEIVED.rank,
                    created_at=now,
                )
                message_id = message.id
            await uow.run(
                lead_rows.record(
                    uow.dialect, lead.id, "web_form", at=now, actor="customer",
                    consent=form.consent, callback=form.callback, message_id=message_id,
                )
            )  # fmt: skip
            await uow.run(
                self.jobs.enqueue(
                    PROCESS_FORM,
                    {
                        "lead_id": lead.id,
                        "key": key,
                        "message": form.message,
                        "callback": form.callback,
                        "consent": form.consent,
                        "at": now.isoformat(),
                    },
                    dedupe_key=f"{PROCESS_FORM}:{key}",
                    business=business.slug,
                )
            )
        return lead.id

    async def run_process_form(self, job: ClaimedJob) -> None:
        """Read the visitor's words for what the fields left empty, then tell the owner and
        (with consent) thank the visitor."""
        payload = job.payload
        lead, business = await lead_for_job(self.businesses, payload["lead_id"])
        received = self.clock.now()
        found: dict[str, Any] = {}
        actors: dict[str, str] = {}
        # The message is read like a first reply; the callback field only for its window.
        for text, wanted in ((payload["message"], LEAD_FIELDS), (payload["callback"], ())):
            if not text:
                continue
            parsed, sources = await self.replies.parse(business, text, received, "a web form")
            for name in wanted:
                value = getattr(parsed, name)
                if value is not None and not getattr(lead, name) and name not in found:
                    found[name], actors[name] = value, sources.get(name, "parser")
            if parsed.callback is not None and lead.callback_start is None:
                found["callback_start"] = parsed.callback.start
                found["callback_end"] = parsed.callback.end
                actors["callback_start"] = sources.get("callback", "parser")
        cause = f"form:{payload['key']}"
        async with self.db.transaction() as uow:
            current = await lead_rows.get(lead.id, using=uow.connection)
            if current is None:
                return
            await self.leads.change(uow, current, actor="parser", fields=found, field_actors=actors)
            if current.urgency == "emergency":
                await self.followups.alert_owner(uow, business, current.id)
            await uow.run(
                self.notifications.enqueue(business, current.id, "summary", {}, cause=cause)
            )
            if payload["consent"]:
                await uow.run(
                    self.outbound.queue_text(
                        business,
                        current.id,
                        "form_thanks",
                        source_key=f"form_thanks:{payload['key']}",
                        sender_number=business.numbers[0],
                    )
                )
