"""What happens after the first text: nudges, owner reminders, the lead summary, and alerts.

All of it is durable jobs with future ``run_at``s, keyed per lead so they can be cancelled:
a customer who replies, opts out or is called back, or a lead whose status changes, stops the
nudge and the owner reminder (``reminder_keys``).

- The **nudge**: a customer who has not replied after ``nudge_after_hours`` gets one.
- The **owner reminder**: a lead still ``new`` after ``remind_owner_after_hours`` business
  hours.
- The **summary**: one clean notification once the conversation has what the owner needs, or
  once the customer has had ``summary_wait_minutes`` to answer the follow-up question.
- The **urgent alert**: an emergency reply reaches every sink at once, flagged urgent, and the
  owner's phone by SMS.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hub import leads
from hub._sqlite import Script
from hub.clock import to_ms
from hub.config import Business
from hub.jobs import ClaimedJob, Retry
from hub.models import Delivery, Direction, Lead, LeadStatus, Message
from hub.types import OutboundSms, SendStatus

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger("hub.followups")

NUDGE = "nudge"
REMIND_OWNER = "remind_owner"
SUMMARY = "summary"
OWNER_ALERT = "owner_alert"


def reminder_keys(lead_id: int) -> list[str]:
    return [f"{NUDGE}:lead:{lead_id}", f"{REMIND_OWNER}:lead:{lead_id}"]


def keys_for(lead_id: int) -> list[str]:
    """Everything still waiting to reach a customer or nag the owner about this lead."""
    return [f"text_back:lead:{lead_id}", *reminder_keys(lead_id)]


def schedule(hub: Hub, business: Business, lead_id: int, status: str) -> Script[list[int]]:
    """After a text-back went out, as a script step: queue the nudge and the owner reminder.
    They are not due yet, so nothing is handed to the worker now (the empty list); polling
    finds them."""
    settings = business.follow_ups
    now = hub.clock.now()
    if settings.nudge_after_hours > 0:
        yield from hub.enqueue_script(
            NUDGE,
            {"lead_id": lead_id},
            run_at_ms=to_ms(now + timedelta(hours=settings.nudge_after_hours)),
            dedupe_key=f"{NUDGE}:lead:{lead_id}",
            business=business.slug,
        )
    if settings.remind_owner_after_hours > 0 and status == LeadStatus.NEW:
        wait = timedelta(hours=settings.remind_owner_after_hours)
        due = business.opening_hours.add_open_time(now, business.timezone, wait) or now + wait
        yield from hub.enqueue_script(
            REMIND_OWNER,
            {"lead_id": lead_id},
            run_at_ms=to_ms(due),
            dedupe_key=f"{REMIND_OWNER}:lead:{lead_id}",
            business=business.slug,
        )
    return []


async def run_nudge(hub: Hub, job: ClaimedJob) -> None:
    lead, business = await hub.lead_for_job(job.payload["lead_id"])
    if lead.status != LeadStatus.NEW:
        return
    if await Message.filter(lead_id=lead.id, direction=Direction.INBOUND).exists():
        return  # they replied; the cancellation raced this run
    last = (
        await Message.filter(lead_id=lead.id, direction=Direction.OUTBOUND).order_by("-id").first()
    )
    body = hub.templates.render("sms/nudge.txt", business, lead=lead)
    await hub.flow.send_text(
        job,
        business,
        lead.id,
        purpose=NUDGE,
        body=body,
        source_key=f"{NUDGE}:{lead.id}",
        sender_number=last.business_number if last else None,
    )


async def run_remind_owner(hub: Hub, job: ClaimedJob) -> None:
    lead, business = await hub.lead_for_job(job.payload["lead_id"])
    if lead.status != LeadStatus.NEW:
        return
    async with in_transaction() as tx:
        job_ids = await hub.notifications.enqueue(
            business, lead.id, "reminder", {}, cause=f"reminder:{lead.id}", using=tx
        )
    hub.after_commit(job_ids)


async def send_summary(
    hub: Hub, business: Business, lead: Lead, tx: BaseDBAsyncClient
) -> list[int]:
    """The one clean summary of a lead, once."""
    if await Delivery.filter(lead_id=lead.id, kind=SUMMARY).using_db(tx).exists():
        return []
    await hub.jobs.cancel([f"{SUMMARY}:lead:{lead.id}"], now_ms=hub.clock.now_ms(), using=tx)
    return await hub.notifications.enqueue(
        business, lead.id, SUMMARY, {}, cause=f"{SUMMARY}:{lead.id}", using=tx
    )


async def wait_for_answer(hub: Hub, business: Business, lead: Lead, tx: BaseDBAsyncClient) -> None:
    """Send the summary anyway if the follow-up question goes unanswered."""
    due = hub.clock.now() + timedelta(minutes=business.follow_ups.summary_wait_minutes)
    await hub.enqueue(
        SUMMARY,
        {"lead_id": lead.id},
        run_at_ms=to_ms(due),
        dedupe_key=f"{SUMMARY}:lead:{lead.id}",
        business=business.slug,
        using=tx,
    )


async def run_summary(hub: Hub, job: ClaimedJob) -> None:
    lead, business = await hub.lead_for_job(job.payload["lead_id"])
    async with in_transaction() as tx:
        job_ids = await send_summary(hub, business, lead, tx)
    hub.after_commit(job_ids)


async def alert_owner(hub: Hub, business: Business, lead: Lead, tx: BaseDBAsyncClient) -> list[int]:
    """An emergency: every sink at once, flagged urgent, and the owner's phone. Once per lead."""
    if await Delivery.filter(lead_id=lead.id, kind="urgent").using_db(tx).exists():
        return []
    job_ids = await hub.notifications.enqueue(
        business, lead.id, "urgent", {"urgent": True}, cause=f"urgent:{lead.id}", using=tx
    )
    if business.owner.phone:
        job_id = await hub.enqueue(
            OWNER_ALERT,
            {"lead_id": lead.id},
            dedupe_key=f"{OWNER_ALERT}:lead:{lead.id}",
            business=business.slug,
            using=tx,
        )
        job_ids += [job_id] if job_id else []
    return job_ids


async def run_owner_alert(hub: Hub, job: ClaimedJob) -> None:
    """Text the owner about an emergency, through the business's own senders."""
    lead, business = await hub.lead_for_job(job.payload["lead_id"])
    owner = business.owner.phone
    if owner is None:
        return
    key = f"{OWNER_ALERT}:{lead.id}"
    message = await Message.get_or_none(source_key=key)
    if message is not None and message.status != "queued":
        return
    if message is None:
        summary = await leads.summary(lead, business)
        body = hub.templates.render("sms/owner_alert.txt", business, lead=summary)
        message = await Message.create(
            business=business.slug,
            lead_id=lead.id,
            phone=owner,
            direction=Direction.OUTBOUND,
            purpose=OWNER_ALERT,
            body=body,
            status="queued",
            source_key=key,
            business_number=business.numbers[0],
            created_at=hub.clock.now(),
        )
    sms = OutboundSms(str(message.id), owner, message.body, sender_number=business.numbers[0])
    result, sender = await hub.flow.send(business, sms)
    if result.status == SendStatus.RETRY and job.attempt < job.max_attempts:
        raise Retry(result.error or "the sender asked to retry", after=result.retry_after)
    sent = result.status == SendStatus.SENT
    message.provider = sender.name if sender else None
    message.provider_message_id = result.provider_id
    message.status = str(result.message_status) if sent else "failed"
    message.error = result.error
    await message.save()
    if not sent:
        log.warning(
            "could not text the owner of %s about lead %d: %s", business.slug, lead.id, result.error
        )
