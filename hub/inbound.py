"""Texts from customers.

An inbound text is stored once per provider message id (the inbox table makes retried webhooks
no-ops), lands in the caller's open lead, and stops anything still waiting to reach them (a
delayed text-back, a nudge, the owner reminder). It is then either a compliance keyword — the
STOP / START / HELP families, answered at once — or a reply, which ``hub.replies`` processes.
For a business with several ``languages``, each text may tell the caller's language
(``hub.languages``), which the answers and every later text follow.
"""

from __future__ import annotations

import logging

from hub.clock import Clock
from hub.config import Business
from hub.events import EventKind
from hub.exceptions import Refused, check_provider_id
from hub.keys import reminder_keys, text_back_key
from hub.keywords import classify_intent, is_keyword
from hub.languages import detect_language
from hub.models import Direction, Lead, Message
from hub.notifications import Notifications
from hub.outbound import Outbound
from hub.phone import caller_number
from hub.replies import Replies
from hub.store import contacts, leads, messages
from hub.store.db import Database, UnitOfWork
from hub.store.errors import Duplicate
from hub.store.jobs import JobQueue
from hub.types import InboundSms, Intent, KeywordIntent, MessageStatus

log = logging.getLogger("hub.inbound")

_PROVIDER_INTENTS = {
    KeywordIntent.STOP: Intent.OPT_OUT,
    KeywordIntent.START: Intent.OPT_IN,
    KeywordIntent.HELP: Intent.HELP,
}


def read_intent(sms: InboundSms) -> tuple[Intent | None, str]:
    """What a text asks of us (``None``: it is a reply), and how we know: the provider matched
    a keyword, the whole text is one, or the customer said it in their own words."""
    if sms.provider_keyword:
        return _PROVIDER_INTENTS[sms.provider_keyword], "provider"
    intent = classify_intent(sms.body)
    if intent == Intent.REPLY:
        return None, "keyword"
    return intent, "keyword" if is_keyword(sms.body) else "natural_language"


class Inbound:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        replies: Replies,
        outbound: Outbound,
        notifications: Notifications,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock
        self.replies = replies
        self.outbound = outbound
        self.notifications = notifications

    async def receive_sms(self, business: Business, provider: str, sms: InboundSms) -> None:
        check_provider_id(sms.message_id, "the text's id")
        recipient = caller_number(sms.recipient, business.region)
        if recipient is None or recipient not in business.numbers:
            raise Refused(403, f"{sms.recipient} is not a number of business {business.slug!r}")
        sender = caller_number(sms.sender, business.region)
        if sender is None:
            log.warning(
                "ignoring a text to %s from %r: not a phone number", business.slug, sms.sender
            )
            return
        at = sms.at or self.clock.now()
        intent, source = read_intent(sms)
        event_key = f"sms:{sms.message_id}"
        try:
            async with self.db.transaction() as uow:
                await contacts.record_event(uow, business.slug, provider, event_key)
                lead, created = await leads.open_lead(
                    uow, business.slug, sender, business.source_of(recipient)
                )
                message = await messages.insert_inbound(
                    uow,
                    business=business.slug,
                    lead_id=lead.id,
                    phone=sender,
                    direction=Direction.INBOUND,
                    purpose="reply",
                    body=sms.body,
                    business_number=recipient,
                    provider=provider,
                    provider_message_id=sms.message_id,
                    status=str(MessageStatus.RECEIVED),
                    status_rank=MessageStatus.RECEIVED.rank,
                    created_at=at,
                )
                await uow.run(
                    leads.record(
                        uow.dialect, lead.id, "customer_text", at=at, actor="customer",
                        message_id=message.id, intent=str(intent) if intent else None,
                    )
                )  # fmt: skip
                data = {"actor": "customer", "message_id": message.id}
                cause = f"message:{message.id}"
                if created:
                    await uow.run(
                        self.notifications.emit(
                            business, EventKind.LEAD_CREATED, lead.id, cause=cause,
                            version=lead.version, data=data,
                        )
                    )  # fmt: skip
                await uow.run(
                    self.notifications.emit(
                        business, EventKind.MESSAGE_RECEIVED, lead.id, cause=cause,
                        version=lead.version, data=data,
                    )
                )  # fmt: skip
                language = detect_language(sms.body, business.languages)
                if language is not None:  # before answering: the answer follows it
                    await contacts.set_language(uow, business.slug, sender, language)
                await self._act_on(uow, business, lead, message, intent, source, sms)
                await self._stop_waiting_work(uow, business, lead, message, intent)
        except Duplicate:
            if await contacts.has_event(business.slug, provider, event_key):
                return  # a retried webhook
            raise

    async def _stop_waiting_work(
        self,
        uow: UnitOfWork,
        business: Business,
        lead: Lead,
        message: Message,
        intent: Intent | None,
    ) -> None:
        """The customer wrote: a text-back, nudge or owner reminder still waiting would now be
        noise. The owner must still hear about a call whose text-back never went out."""
        now_ms = self.clock.now_ms()
        await uow.run(self.jobs.cancel(reminder_keys(lead.id), now_ms=now_ms))
        if not await uow.run(self.jobs.cancel([text_back_key(lead.id)], now_ms=now_ms)):
            return
        reason = "they opted out of texts" if intent == Intent.OPT_OUT else "they texted us first"
        await uow.run(
            self.notifications.enqueue(
                business,
                lead.id,
                "new_lead",
                {"reason": reason},
                cause=f"message:{message.id}:call",
            )
        )

    async def _act_on(
        self,
        uow: UnitOfWork,
        business: Business,
        lead: Lead,
        message: Message,
        intent: Intent | None,
        source: str,
        sms: InboundSms,
    ) -> None:
        now = self.clock.now()
        provider_answered = sms.provider_keyword is not None
        if intent == Intent.OPT_OUT:
            changed = await contacts.opt_out(
                uow, business.slug, lead.phone, source=source, detail=sms.body[:200], at=now
            )
            await uow.run(
                leads.record(
                    uow.dialect, lead.id, "opted_out", at=now, actor="customer", source=source
                )
            )
            if changed and not provider_answered:
                await self._answer(
                    uow, business, lead, "opt_out_confirmation", message, respect_opt_out=False
                )
            return
        if intent == Intent.OPT_IN:
            if not await contacts.opt_in(uow, business.slug, lead.phone, at=now):
                if sms.body.strip().lower().startswith("yes"):
                    await uow.run(self.replies.queue(business, message.id))  # a plain "yes"
                return
            await uow.run(leads.record(uow.dialect, lead.id, "opted_in", at=now, actor="customer"))
            if not provider_answered:
                await self._answer(uow, business, lead, "opt_in_confirmation", message)
            return
        if intent == Intent.HELP:
            if not provider_answered:
                await self._answer(uow, business, lead, "help", message, respect_opt_out=False)
            return
        await uow.run(self.replies.queue(business, message.id))

    async def _answer(
        self,
        uow: UnitOfWork,
        business: Business,
        lead: Lead,
        template: str,
        cause: Message,
        *,
        respect_opt_out: bool = True,
    ) -> None:
        """Answer the customer's own message (one answer per message it answers)."""
        await uow.run(
            self.outbound.queue_text(
                business,
                lead.id,
                template,
                source_key=f"{template}:{cause.id}",
                sender_number=cause.business_number,
                respect_opt_out=respect_opt_out,
            )
        )
