"""Leads: finding the caller's open lead, its timeline, status changes, and the summary sinks see.

Every function that writes takes the transaction it is part of (``using``): the flow composes
them into one commit per webhook.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hub.config import Business
from hub.db import Database
from hub.jobs import JobQueue, Statement
from hub.models import Call, Contact, Direction, Lead, LeadEvent, LeadStatus, Message
from hub.types import LeadSummary


class LeadError(Exception):
    """A lead change that cannot be made (unknown lead, a second open lead for a caller)."""


def open_key(business: str, phone: str) -> str:
    return f"{business}:{phone}"


async def open_lead(
    business: Business, phone: str, *, at: datetime, using: BaseDBAsyncClient
) -> tuple[Lead, bool, Contact]:
    """The caller's open lead with this business (and whether it is new), created with its
    contact if there is none.

    ``get_or_create`` inserts inside a savepoint and re-reads on a unique violation, so two
    webhooks racing for the same new caller on PostgreSQL end with one lead, not an error.
    """
    contact, _ = await Contact.get_or_create(business=business.slug, phone=phone, using_db=using)
    lead, created = await Lead.get_or_create(
        open_key=open_key(business.slug, phone),
        defaults={"business": business.slug, "contact_id": contact.id, "phone": phone},
        using_db=using,
    )
    return lead, created, contact


async def record(
    lead_id: int,
    kind: str,
    *,
    at: datetime,
    actor: str = "system",
    using: BaseDBAsyncClient,
    **detail: Any,
) -> None:
    """Add an entry to the lead's timeline."""
    await LeadEvent.create(
        lead_id=lead_id, at=at, actor=actor, kind=kind, detail=detail, using_db=using
    )


def record_statement(
    lead_id: int, kind: str, *, at: datetime, db: Database, actor: str = "system", **detail: Any
) -> Statement:
    """``record`` as a statement for a script."""
    return (
        "INSERT INTO hub_lead_event (lead_id, at, actor, kind, detail)"
        f" VALUES (?, ?, ?, ?, {db.json()})",
        [lead_id, at, actor, kind, json.dumps(detail, default=str)],
    )


async def set_status(
    lead: Lead,
    status: LeadStatus,
    *,
    at: datetime,
    actor: str,
    using: BaseDBAsyncClient,
    jobs: JobQueue | None = None,
) -> bool:
    """Move a lead to ``status``; ``False`` if it already was. Closing frees the caller to get a
    new lead on their next call; reopening fails if they already have one. Any change stops
    the nudge and the owner reminder (pass the hub's ``jobs``)."""
    if lead.status == status:
        return False
    if jobs is not None:
        from hub.followups import reminder_keys

        await jobs.cancel(reminder_keys(lead.id), now_ms=int(at.timestamp() * 1000), using=using)
    before = lead.status
    lead.status = status
    if status == LeadStatus.CLOSED:
        lead.open_key = None
        lead.closed_at = at
    elif before == LeadStatus.CLOSED:
        key = open_key(lead.business, lead.phone)
        if await Lead.filter(open_key=key).using_db(using).exists():
            raise LeadError(f"{lead.phone} already has an open lead with {lead.business}")
        lead.open_key = key
        lead.closed_at = None
    await lead.save(using_db=using, update_fields=["status", "open_key", "closed_at", "updated_at"])
    await record(
        lead.id, "status", at=at, actor=actor, using=using, before=str(before), after=str(status)
    )
    return True


async def summary(lead: Lead, business: Business) -> LeadSummary:
    """What sinks and templates see of a lead."""
    last_call = await Call.filter(lead_id=lead.id).order_by("-at").first()
    words = (
        await Message.filter(lead_id=lead.id, direction=Direction.INBOUND)
        .order_by("id")
        .values_list("body", flat=True)
    )
    voicemail = (
        await Call.filter(lead_id=lead.id, recording_url__not_isnull=True).order_by("-at").first()
    )
    return LeadSummary(
        id=lead.id,
        business=business.slug,
        business_name=business.name,
        status=str(lead.status),
        caller=lead.phone,
        call_count=lead.call_count,
        first_call_at=lead.first_call_at,
        last_call_at=lead.last_call_at,
        outcome=last_call.outcome if last_call else None,
        after_hours=bool(last_call and last_call.after_hours),
        name=lead.name,
        service=lead.service,
        zip=lead.zip,
        urgency=lead.urgency,
        callback_start=lead.callback_start,
        callback_end=lead.callback_end,
        customer_words=tuple(str(word) for word in words),
        voicemail_url=voicemail.recording_url if voicemail else None,
    )
