"""Texts from customers and delivery reports from providers.

An inbound text is stored once per provider message id (the inbox table makes retried webhooks
no-ops), lands in the caller's open lead, and stops anything still waiting to reach them (a
delayed text-back, a nudge, the owner reminder). It is then either a compliance keyword — the
STOP / START / HELP families, answered at once — or a reply, which a job runs through the
business's parser chain. After the first reply the hub asks once for what is still missing,
then sends the owner one clean summary; an emergency reaches the owner at once.

Delivery reports only ever move a message's status forward, whatever order they come in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hub import followups, leads
from hub.config import Business
from hub.exceptions import Refused
from hub.flow import TEXT_BACK, opt_out
from hub.jobs import ClaimedJob, Discard
from hub.models import Delivery, Direction, InboxEvent, Lead, Message, OptOut
from hub.phone import caller_number
from hub.rules.intent import classify_intent, is_keyword
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
LEAD_FIELDS = ("service", "zip", "urgency", "name")

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


async def receive_sms(hub: Hub, business: Business, provider: str, sms: InboundSms) -> None:
    recipient = caller_number(sms.recipient, business.region)
    if recipient is None or recipient not in business.numbers:
        raise Refused(403, f"{sms.recipient} is not a number of business {business.slug!r}")
    sender = caller_number(sms.sender, business.region)
    if sender is None:
        log.warning("ignoring a text to %s from %r: not a phone number", business.slug, sms.sender)
        return
    at = sms.at or hub.clock.now()
    intent, source = read_intent(sms)
    job_ids: list[int] = []
    try:
        async with in_transaction() as tx:
            await InboxEvent.create(
                provider=provider, event_key=f"sms:{sms.message_id}", using_db=tx
            )
            lead, _, _ = await leads.open_lead(business, sender, at=at, using=tx)
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
                created_at=at,
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
            job_ids = await _act_on(hub, business, lead, message, intent, source, sms, tx)
            job_ids += await _stop_waiting_work(hub, business, lead, message, intent, tx)
    except IntegrityError:
        if await InboxEvent.filter(provider=provider, event_key=f"sms:{sms.message_id}").exists():
            return  # a retried webhook
        raise
    hub.after_commit(job_ids)


async def _stop_waiting_work(
    hub: Hub,
    business: Business,
    lead: Lead,
    message: Message,
    intent: Intent | None,
    tx: BaseDBAsyncClient,
) -> list[int]:
    """The customer wrote: a text-back, nudge or owner reminder still waiting would now be
    noise. The owner must still hear about a call whose text-back never went out."""
    now_ms = hub.clock.now_ms()
    await hub.jobs.cancel(followups.reminder_keys(lead.id), now_ms=now_ms, using=tx)
    if not await hub.jobs.cancel([f"{TEXT_BACK}:lead:{lead.id}"], now_ms=now_ms, using=tx):
        return []
    reason = "they opted out of texts" if intent == Intent.OPT_OUT else "they texted us first"
    return await hub.notifications.enqueue(
        business,
        lead.id,
        "new_lead",
        {"reason": reason},
        cause=f"message:{message.id}:call",
        using=tx,
    )


async def _act_on(
    hub: Hub,
    business: Business,
    lead: Lead,
    message: Message,
    intent: Intent | None,
    source: str,
    sms: InboundSms,
    tx: BaseDBAsyncClient,
) -> list[int]:
    now = hub.clock.now()
    provider_answered = sms.provider_keyword is not None
    if intent == Intent.OPT_OUT:
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
    context: dict[str, Any] | None = None,
) -> list[int]:
    # One follow-up question per lead, however many replies come in; other answers are one
    # per message they answer.
    source = f"{template}:{lead.id}" if template == "follow_up" else f"{template}:{cause.id}"
    job_id = await queue_text(
        hub,
        business,
        lead,
        template,
        source_key=source,
        sender_number=cause.business_number,
        respect_opt_out=respect_opt_out,
        context=context,
        using=tx,
    )
    return [job_id] if job_id else []


async def queue_text(
    hub: Hub,
    business: Business,
    lead: Lead,
    template: str,
    *,
    source_key: str,
    sender_number: str | None = None,
    respect_opt_out: bool = True,
    context: dict[str, Any] | None = None,
    using: BaseDBAsyncClient | None = None,
) -> int | None:
    """Queue a text to a lead from ``templates/sms/TEMPLATE.txt``: a reply, or staff writing."""
    return await hub.enqueue(
        SEND_REPLY,
        {
            "lead_id": lead.id,
            "template": template,
            "source_key": source_key,
            "sender_number": sender_number,
            "respect_opt_out": respect_opt_out,
            "context": context or {},
        },
        dedupe_key=f"{SEND_REPLY}:{source_key}",
        business=business.slug,
        using=using,
    )


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
    lead, business = await hub.lead_for_job(job.payload["lead_id"])
    template = job.payload["template"]
    body = hub.templates.render(
        f"sms/{template}.txt", business, lead=lead, **job.payload["context"]
    )
    await hub.flow.send_text(
        job,
        business,
        lead.id,
        purpose=template,
        body=body,
        source_key=job.payload["source_key"],
        sender_number=job.payload["sender_number"],
        respect_opt_out=job.payload["respect_opt_out"],
    )


async def run_process_reply(hub: Hub, job: ClaimedJob) -> None:
    """Run the business's parsers over a reply, update the lead, and decide what comes next:
    an urgent alert, a follow-up question for what is missing, or the owner's summary."""
    message = await Message.get_or_none(id=job.payload["message_id"])
    if message is None or message.lead_id is None:
        raise Discard("the message or its lead no longer exists")
    lead, business = await hub.lead_for_job(message.lead_id)
    found, sources = await _parse(hub, business, message)
    now = hub.clock.now()
    async with in_transaction() as tx:
        await _apply(lead, found, sources, message, now, tx)
        job_ids = await _next_step(hub, business, lead, message, tx)
    hub.after_commit(job_ids)


async def _parse(
    hub: Hub, business: Business, message: Message
) -> tuple[ParsedReply, dict[str, str]]:
    """The chain: each parser fills what the earlier ones left empty."""
    context = ParseContext(
        business=business.slug,
        timezone=business.timezone,
        received_at=business.local_time(message.created_at),
        services={name: tuple(words) for name, words in business.services.items()},
    )
    found = ParsedReply()
    sources: dict[str, str] = {}
    for parser in hub.parsers(business.slug):
        try:
            parsed = await parser.parse(message.body, context)
        except Exception:
            log.exception("reply parser %r failed on message %d", parser.name, message.id)
            continue
        merged = parsed.merged_over(found)
        for field in (*LEAD_FIELDS, "callback"):
            if getattr(found, field) is None and getattr(merged, field) is not None:
                sources[field] = f"plugin:{parser.name}"
        found = merged
    return found, sources


async def _apply(
    lead: Lead,
    found: ParsedReply,
    sources: dict[str, str],
    message: Message,
    now: Any,
    tx: BaseDBAsyncClient,
) -> None:
    """Write what the reply said into the lead; a later reply that corrects a field wins, and
    the timeline shows each change and who made it."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field in LEAD_FIELDS:
        new = getattr(found, field)
        if new is not None and new != getattr(lead, field):
            changes[field] = (getattr(lead, field), new)
            setattr(lead, field, new)
    if found.callback is not None and found.callback.start != lead.callback_start:
        changes["callback"] = (lead.callback_start, found.callback.start)
        lead.callback_start, lead.callback_end = found.callback.start, found.callback.end
    if not changes:
        return
    await lead.save(using_db=tx)
    for field, (before, after) in changes.items():
        await leads.record(
            lead.id,
            "field",
            at=now,
            actor=sources.get(field, "parser"),
            using=tx,
            field=field,
            before=_plain(before),
            after=_plain(after),
            message_id=message.id,
        )


async def _next_step(
    hub: Hub, business: Business, lead: Lead, message: Message, tx: BaseDBAsyncClient
) -> list[int]:
    job_ids: list[int] = []
    if lead.urgency == "emergency":
        job_ids += await followups.alert_owner(hub, business, lead, tx)
    if await Delivery.filter(lead_id=lead.id, kind=followups.SUMMARY).using_db(tx).exists():
        # The owner has the summary: later replies reach them as they come.
        return job_ids + await hub.notifications.enqueue(
            business, lead.id, "reply", {}, cause=f"message:{message.id}", using=tx
        )
    missing = [field for field in ("service", "zip") if not getattr(lead, field)]
    asked = await Message.filter(source_key=f"follow_up:{lead.id}").using_db(tx).exists()
    if missing and business.follow_ups.ask_missing and not asked:
        job_ids += await _reply(
            hub, business, lead, "follow_up", message, tx, context={"missing": missing}
        )
        await followups.wait_for_answer(hub, business, lead, tx)
        return job_ids
    return job_ids + await followups.send_summary(hub, business, lead, tx)


async def receive_delivery_report(
    hub: Hub, business: Business, provider: str, report: DeliveryReport
) -> None:
    event_key = f"status:{report.message_id}:{report.status}:{report.error_code or ''}"[:255]
    job_ids: list[int] = []
    try:
        async with in_transaction() as tx:
            await InboxEvent.create(provider=provider, event_key=event_key, using_db=tx)
            message = await Message.get_or_none(
                provider=provider, provider_message_id=report.message_id, using_db=tx
            )
            if message is None:
                log.info(
                    "delivery report for unknown message %s from %s", report.message_id, provider
                )
                return
            job_ids = await _record_report(hub, business, message, report, tx)
    except IntegrityError:
        if await InboxEvent.filter(provider=provider, event_key=event_key).exists():
            return
        raise
    hub.after_commit(job_ids)


async def _record_report(
    hub: Hub, business: Business, message: Message, report: DeliveryReport, tx: BaseDBAsyncClient
) -> list[int]:
    rank = report.status.rank
    # Forward only: "delivered" arriving before "sent" must not be overwritten by it.
    updated = (
        await Message.filter(id=message.id, status_rank__lt=rank)
        .using_db(tx)
        .update(status=str(report.status), status_rank=rank, error_code=report.error_code)
    )
    reason = None
    if report.recipient_issue is not None:
        reason = await hub.flow.apply_recipient_issue(
            business,
            message.phone,
            report.recipient_issue,
            f"delivery report {report.error_code or report.status}",
            tx,
        )
    lead_id = message.lead_id
    failed = report.status in {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
    if not (updated and failed and lead_id):
        return []
    await leads.record(
        lead_id,
        "text_undelivered",
        at=hub.clock.now(),
        using=tx,
        message_id=message.id,
        error_code=report.error_code,
    )
    # The customer never got our text: the owner has to call them.
    reason = reason or f"our text was not delivered (error {report.error_code or 'unknown'})"
    return await hub.notifications.enqueue(
        business,
        lead_id,
        "cannot_text",
        {"reason": reason},
        cause=f"message:{message.id}",
        using=tx,
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
