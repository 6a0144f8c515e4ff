"""Texts from customers and delivery reports from providers.

An inbound text is stored once per provider message id (the inbox table makes retried webhooks
no-ops), lands in the caller's open lead, and is either a compliance keyword (STOP / START /
HELP families, answered at once) or a reply, which a job runs through the business's parser
chain. Delivery reports only ever move a message's status forward, whatever order they come in.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hub import leads
from hub.config import Business
from hub.exceptions import Refused
from hub.flow import opt_out
from hub.jobs import ClaimedJob, Discard
from hub.models import Direction, InboxEvent, Lead, Message, OptOut
from hub.phone import caller_number
from hub.types import (
    DeliveryReport,
    InboundSms,
    Intent,
    KeywordIntent,
    MessageStatus,
    ParseContext,
    ParsedReply,
)

if TYPE_CHECKING:
    from tortoise.backends.base.client import BaseDBAsyncClient

    from hub.core import Hub

log = logging.getLogger("hub.inbound")

PROCESS_REPLY = "process_reply"
SEND_REPLY = "send_reply"

STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "stop all",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt out",
        "opt-out",
        "remove",
        "arret",
        "arrêt",
    }
)
START_WORDS = frozenset({"start", "unstop", "yes"})
HELP_WORDS = frozenset({"help", "info", "aide"})
_PROVIDER_INTENTS = {
    KeywordIntent.STOP: Intent.OPT_OUT,
    KeywordIntent.START: Intent.OPT_IN,
    KeywordIntent.HELP: Intent.HELP,
}


def keyword_intent(body: str) -> Intent | None:
    """The compliance keyword a whole text is, ignoring case, punctuation and extra spaces."""
    text = re.sub(r"[^\w\s-]", " ", body.lower())
    text = re.sub(r"\s+", " ", text).strip(" -")
    if text in STOP_WORDS:
        return Intent.OPT_OUT
    if text in START_WORDS:
        return Intent.OPT_IN
    if text in HELP_WORDS:
        return Intent.HELP
    return None


async def receive_sms(hub: Hub, business: Business, provider: str, sms: InboundSms) -> None:
    recipient = caller_number(sms.recipient, business.region)
    if recipient is None or recipient not in business.numbers:
        raise Refused(403, f"{sms.recipient} is not a number of business {business.slug!r}")
    sender = caller_number(sms.sender, business.region)
    if sender is None:
        log.warning("ignoring a text to %s from %r: not a phone number", business.slug, sms.sender)
        return
    at = sms.at or hub.clock.now()
    intent = (
        _PROVIDER_INTENTS.get(sms.provider_keyword)
        if sms.provider_keyword
        else keyword_intent(sms.body)
    )
    job_ids: list[int] = []
    try:
        async with in_transaction() as tx:
            await InboxEvent.create(
                provider=provider, event_key=f"sms:{sms.message_id}", using_db=tx
            )
            lead, _ = await leads.open_lead(business, sender, at=at, using=tx)
            message = await Message.create(
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
                using_db=tx,
            )
            await leads.record(
                lead.id,
                "customer_text",
                at=at,
                actor="customer",
                using=tx,
                message_id=message.id,
                intent=str(intent) if intent else None,
            )
            job_ids = await _act_on(hub, business, lead, message, intent, sms, tx)
            # The customer wrote first: a text-back still waiting would now be noise, but the
            # owner must still hear about the call.
            if await hub.jobs.cancel(
                [f"text_back:lead:{lead.id}"], now_ms=hub.clock.now_ms(), using=tx
            ):
                reason = (
                    "they opted out of texts"
                    if intent == Intent.OPT_OUT
                    else "they texted us first"
                )
                job_ids += await hub.flow.enqueue_notifications(
                    business,
                    lead.id,
                    "new_lead",
                    {"reason": reason},
                    cause=f"message:{message.id}:call",
                    using=tx,
                )
    except IntegrityError:
        if await InboxEvent.filter(provider=provider, event_key=f"sms:{sms.message_id}").exists():
            return  # a retried webhook
        raise
    hub.after_commit(job_ids)


async def _act_on(
    hub: Hub,
    business: Business,
    lead: Lead,
    message: Message,
    intent: Intent | None,
    sms: InboundSms,
    tx: BaseDBAsyncClient,
) -> list[int]:
    now = hub.clock.now()
    provider_answered = sms.provider_keyword is not None
    if intent == Intent.OPT_OUT:
        source = "provider" if provider_answered else "keyword"
        changed = await opt_out(
            business.slug, lead.phone, source=source, detail=sms.body[:200], at=now, using=tx
        )
        await leads.record(lead.id, "opted_out", at=now, actor="customer", using=tx, source=source)
        if changed and not provider_answered:
            return await _reply(
                hub, business, lead, "opt_out_confirmation", message, tx, respect_opt_out=False
            )
        return []
    if intent == Intent.OPT_IN:
        record = await OptOut.get_or_none(
            business=business.slug, phone=lead.phone, active=True, using_db=tx
        )
        if record is None:
            if sms.body.strip().lower().startswith("yes"):
                return await _process(hub, business, message, tx)  # a plain "yes" is an answer
            return []
        record.active, record.opted_in_at = False, now
        await record.save(using_db=tx)
        await leads.record(lead.id, "opted_in", at=now, actor="customer", using=tx)
        if not provider_answered:
            return await _reply(hub, business, lead, "opt_in_confirmation", message, tx)
        return []
    if intent == Intent.HELP:
        if provider_answered:
            return []
        return await _reply(hub, business, lead, "help", message, tx, respect_opt_out=False)
    return await _process(hub, business, message, tx)


async def _reply(
    hub: Hub,
    business: Business,
    lead: Lead,
    template: str,
    cause: Message,
    tx: BaseDBAsyncClient,
    *,
    respect_opt_out: bool = True,
) -> list[int]:
    job_id = await hub.enqueue(
        SEND_REPLY,
        {
            "lead_id": lead.id,
            "template": template,
            "cause": cause.id,
            "respect_opt_out": respect_opt_out,
        },
        dedupe_key=f"{SEND_REPLY}:{cause.id}",
        business=business.slug,
        using=tx,
    )
    return [job_id] if job_id else []


async def _process(
    hub: Hub, business: Business, message: Message, tx: BaseDBAsyncClient
) -> list[int]:
    job_id = await hub.enqueue(
        PROCESS_REPLY,
        {"message_id": message.id},
        dedupe_key=f"{PROCESS_REPLY}:{message.id}",
        business=business.slug,
        using=tx,
    )
    return [job_id] if job_id else []


async def run_send_reply(hub: Hub, job: ClaimedJob) -> None:
    lead = await Lead.get_or_none(id=job.payload["lead_id"])
    if lead is None:
        raise Discard("the lead no longer exists")
    business = hub.config.businesses.get(lead.business)
    if business is None:
        raise Discard(f"business {lead.business!r} is no longer configured")
    template = job.payload["template"]
    body = hub.templates.render(f"sms/{template}.txt", business, lead=lead)
    cause = await Message.get_or_none(id=job.payload["cause"])
    await hub.flow.send_text(
        job,
        business,
        lead,
        purpose=template,
        body=body,
        source_key=f"{template}:{job.payload['cause']}",
        sender_number=cause.business_number if cause else None,
        respect_opt_out=job.payload["respect_opt_out"],
    )


async def run_process_reply(hub: Hub, job: ClaimedJob) -> None:
    """Run the business's parsers over a reply, update the lead, and tell the owner."""
    message = await Message.get_or_none(id=job.payload["message_id"])
    if message is None or message.lead_id is None:  # type: ignore[attr-defined]
        raise Discard("the message or its lead no longer exists")
    business = hub.config.businesses.get(message.business)
    if business is None:
        raise Discard(f"business {message.business!r} is no longer configured")
    received = business.local_time(message.created_at)
    context = ParseContext(
        business=business.slug,
        timezone=business.timezone,
        received_at=received,
        services={name: tuple(words) for name, words in business.services.items()},
    )
    found = ParsedReply()
    changes: list[tuple[str, str, Any, Any]] = []
    lead = await Lead.get(id=message.lead_id)  # type: ignore[attr-defined]
    for parser in hub.parsers(business.slug):
        try:
            parsed = await parser.parse(message.body, context)
        except Exception:
            log.exception("reply parser %r failed on message %d", parser.name, message.id)
            continue
        before = found
        found = parsed.merged_over(found)
        for field in ("service", "zip", "urgency", "name"):
            if getattr(before, field) is None and getattr(found, field) is not None:
                changes.append(
                    (f"plugin:{parser.name}", field, getattr(lead, field), getattr(found, field))
                )
        if before.callback is None and found.callback is not None:
            changes.append(
                (f"plugin:{parser.name}", "callback", lead.callback_start, found.callback.start)
            )
    now = hub.clock.now()
    async with in_transaction() as tx:
        for actor, field, old, new in changes:
            if old == new:
                continue
            if field == "callback":
                lead.callback_start = new
                lead.callback_end = found.callback.end if found.callback else None
            else:
                setattr(lead, field, new)
            await leads.record(
                lead.id,
                "field",
                at=now,
                actor=actor,
                using=tx,
                field=field,
                before=_plain(old),
                after=_plain(new),
                message_id=message.id,
            )
        await lead.save(using_db=tx)
        job_ids = await hub.flow.enqueue_notifications(
            business,
            lead.id,
            "reply",
            {"message_id": message.id},
            cause=f"message:{message.id}",
            using=tx,
        )
    hub.after_commit(job_ids)


async def receive_delivery_report(
    hub: Hub, business: Business, provider: str, report: DeliveryReport
) -> None:
    event_key = f"status:{report.message_id}:{report.status}:{report.error_code or ''}"
    job_ids: list[int] = []
    try:
        async with in_transaction() as tx:
            await InboxEvent.create(provider=provider, event_key=event_key[:255], using_db=tx)
            message = await Message.get_or_none(
                provider=provider, provider_message_id=report.message_id, using_db=tx
            )
            if message is None:
                log.info(
                    "delivery report for unknown message %s from %s", report.message_id, provider
                )
                return
            rank = report.status.rank
            # Forward only: "delivered" arriving before "sent" must not be overwritten by it.
            updated = (
                await Message.filter(id=message.id, status_rank__lt=rank)
                .using_db(tx)
                .update(status=str(report.status), status_rank=rank, error_code=report.error_code)
            )
            lead_id = message.lead_id  # type: ignore[attr-defined]
            reason = None
            if report.recipient_issue is not None:
                reason = await hub.flow.apply_recipient_issue(
                    business,
                    message.phone,
                    report.recipient_issue,
                    f"delivery report {report.error_code or report.status}",
                    tx,
                )
            if (
                updated
                and report.status in {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
                and lead_id
            ):
                await leads.record(
                    lead_id,
                    "text_undelivered",
                    at=hub.clock.now(),
                    using=tx,
                    message_id=message.id,
                    error_code=report.error_code,
                )
                # The customer never got our text: the owner has to call them.
                job_ids = await hub.flow.enqueue_notifications(
                    business,
                    lead_id,
                    "cannot_text",
                    {
                        "reason": reason
                        or f"our text was not delivered (error {report.error_code or 'unknown'})"
                    },
                    cause=f"message:{message.id}",
                    using=tx,
                )
    except IntegrityError:
        if await InboxEvent.filter(provider=provider, event_key=event_key[:255]).exists():
            return
        raise
    hub.after_commit(job_ids)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
