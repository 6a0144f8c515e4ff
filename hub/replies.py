"""Reply processing: a customer's reply runs through the business's parser chain (a
``process_reply`` job), what it said goes into the lead (``change_lead``), and the next step is
decided: an urgent alert, one follow-up question for what is still missing, or the owner's
summary; once the owner has the summary, later replies reach them as they come."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from hub.clock import Clock
from hub.config import Business
from hub.events import EventKind
from hub.followups import FollowUps
from hub.jobs import ClaimedJob, Discard
from hub.keys import PROCESS_REPLY
from hub.leads import Leads, lead_for_job
from hub.models import Lead, Message
from hub.notifications import Notifications
from hub.outbound import Outbound
from hub.providers import ReplyParser
from hub.store import deliveries, messages
from hub.store.db import Database, UnitOfWork
from hub.store.jobs import JobQueue
from hub.store.step import Step
from hub.types import ParseContext, ParsedReply

log = logging.getLogger("hub.replies")

LEAD_FIELDS = ("service", "zip", "urgency", "name")

#: The most of a text the parsers read. A customer's reply is a few sentences (a long SMS is
#: 1,600 characters); whatever a plugin parser does, it never gets a 100 KB text to chew on.
MAX_PARSED_CHARS = 5000


class Replies:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        businesses: Mapping[str, Business],
        parsers: Callable[[str], Sequence[ReplyParser]],
        followups: FollowUps,
        notifications: Notifications,
        outbound: Outbound,
        leads: Leads,
    ) -> None:
        self.db = db
        self.leads = leads
        self.jobs = jobs
        self.clock = clock
        self.businesses = businesses
        self.parsers = parsers
        self.followups = followups
        self.notifications = notifications
        self.outbound = outbound

    def queue(self, business: Business, message_id: int) -> Step[int | None]:
        """Queue the processing of a reply."""
        return self.jobs.enqueue(
            PROCESS_REPLY,
            {"message_id": message_id},
            dedupe_key=f"{PROCESS_REPLY}:{message_id}",
            business=business.slug,
        )

    async def run_process_reply(self, job: ClaimedJob) -> None:
        """Run the business's parsers over a reply, update the lead, and decide what comes
        next."""
        message = await messages.get(job.payload["message_id"])
        if message is None or message.lead_id is None:
            raise Discard("the message or its lead no longer exists")
        lead, business = await lead_for_job(self.businesses, message.lead_id)
        found, sources = await self._parse(business, message)
        async with self.db.transaction() as uow:
            await self._apply(uow, lead, found, sources, message)
            await self.next_step(uow, business, lead, message)

    async def _parse(
        self, business: Business, message: Message
    ) -> tuple[ParsedReply, dict[str, str]]:
        return await self.parse(business, message.body, message.created_at, f"message {message.id}")

    async def parse(
        self, business: Business, text: str, received_at: datetime, what: str = "a text"
    ) -> tuple[ParsedReply, dict[str, str]]:
        """Run the business's parser chain over ``text`` (each parser fills what the earlier
        ones left empty): what it found, and which parser found each field."""
        context = ParseContext(
            business=business.slug,
            timezone=business.timezone,
            received_at=business.local_time(received_at),
            services={name: tuple(words) for name, words in business.services.items()},
        )
        found = ParsedReply()
        sources: dict[str, str] = {}
        text = text[:MAX_PARSED_CHARS]
        for parser in self.parsers(business.slug):
            try:
                parsed = await parser.parse(text, replace(context, found=found))
            except Exception:
                log.exception("reply parser %r failed on %s", parser.name, what)
                continue
            merged = parsed.merged_over(found)
            for field in (*LEAD_FIELDS, "callback"):
                if getattr(found, field) is None and getattr(merged, field) is not None:
                    sources[field] = f"plugin:{parser.name}"
            found = merged
        return found, sources

    async def _apply(
        self,
        uow: UnitOfWork,
        lead: Lead,
        found: ParsedReply,
        sources: dict[str, str],
        message: Message,
    ) -> None:
        """Write what the reply said into the lead; a later reply that corrects a field wins,
        and the timeline shows each change and who made it."""
        fields: dict[str, Any] = {
            field: getattr(found, field)
            for field in LEAD_FIELDS
            if getattr(found, field) is not None
        }
        actors = {field: sources.get(field, "parser") for field in fields}
        if found.callback is not None and found.callback.start != lead.callback_start:
            fields["callback_start"] = found.callback.start
            fields["callback_end"] = found.callback.end
            actors["callback_start"] = sources.get("callback", "parser")
        await self.leads.change(
            uow,
            lead,
            actor="parser",
            fields=fields,
            field_actors=actors,
            message_id=message.id,
        )

    async def next_step(
        self, uow: UnitOfWork, business: Business, lead: Lead, message: Message
    ) -> None:
        """What follows the customer's words in ``message`` (a reply, a voicemail transcript):
        an urgent alert, one follow-up question for what is still missing, or the summary."""
        if lead.urgency == "emergency":
            await self.followups.alert_owner(uow, business, lead.id)
        if await deliveries.exists(uow, lead.id, EventKind.NOTIFY_SUMMARY):
            # The owner has the summary: later replies reach them as they come.
            await uow.run(
                self.notifications.enqueue(
                    business, lead.id, "reply", {}, cause=f"message:{message.id}"
                )
            )
            return
        missing = [field for field in ("service", "zip") if not getattr(lead, field)]
        asked = await messages.exists(using=uow.connection, source_key=f"follow_up:{lead.id}")
        if missing and business.follow_ups.ask_missing and not asked:
            await uow.run(
                self.outbound.queue_text(
                    business,
                    lead.id,
                    "follow_up",
                    source_key=f"follow_up:{lead.id}",
                    sender_number=message.business_number,
                    context={"missing": missing},
                )
            )
            await self.followups.wait_for_answer(uow, business, lead.id)
            return
        await self.followups.send_summary(uow, business, lead.id)
