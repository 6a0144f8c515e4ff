"""Calls and the caller they attach to: the webhook's hot path, in raw statements. Upserts
(``ON CONFLICT``) keep racing webhooks correct without savepoints, on SQLite and PostgreSQL
alike; an ORM statement costs several times the CPU of a raw one, and one process on one core
answers the webhooks and runs the jobs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from hub.models import Call
from hub.store.db import UnitOfWork
from hub.store.errors import Duplicate
from hub.store.leads import _timestamp
from hub.store.sql import Script, Sql
from hub.views import CallView

ATTACH_CONTACT = Sql(
    "INSERT INTO hub_contact (business, phone, created_at) VALUES ({}, {}, {})"
    " ON CONFLICT (business, phone) DO UPDATE SET phone = excluded.phone"
    " RETURNING id, last_text_back_at, EXISTS (SELECT 1 FROM hub_opt_out o"
    " WHERE o.business = hub_contact.business AND o.phone = hub_contact.phone"
    " AND o.active) AS opted_out"
)
ATTACH_LEAD = Sql(
    "INSERT INTO hub_lead (business, contact_id, phone, status, open_key, call_count,"
    " first_call_at, last_call_at, created_at, updated_at, version, source)"
    " VALUES ({}, {}, {}, 'new', {}, 1, {}, {}, {}, {}, 0, {})"
    " ON CONFLICT (open_key) DO UPDATE SET call_count = hub_lead.call_count + 1,"
    " first_call_at = COALESCE(hub_lead.first_call_at, excluded.first_call_at),"
    # The source that brought the lead in stays; a lead without one takes this call's.
    " source = COALESCE(hub_lead.source, excluded.source),"
    " last_call_at = excluded.last_call_at, updated_at = excluded.updated_at"
    # A new row is the only one whose creation is this call's own moment.
    " RETURNING id, version, created_at = updated_at AS created"
)
_CALL_COLUMNS = (
    "business", "provider", "provider_call_id", "lead_id", "caller", "called", "outcome",
    "after_hours", "skipped_reason", "forwarded_from", "recording_url", "at", "provider_data",
)  # fmt: skip
_CALL_MARKS = ", ".join("{json}" if c == "provider_data" else "{}" for c in _CALL_COLUMNS)
INSERT_CALL = Sql(
    f"INSERT INTO hub_call ({', '.join(_CALL_COLUMNS)}, created_at) VALUES ({_CALL_MARKS}, {{}})"
    " ON CONFLICT (business, provider, provider_call_id) DO NOTHING RETURNING id"
)
SET_LAST_TEXT_BACK = Sql("UPDATE hub_contact SET last_text_back_at = {} WHERE id = {}")
SET_SKIPPED = Sql("UPDATE hub_call SET skipped_reason = {} WHERE id = {}")


@dataclass(frozen=True, slots=True)
class CallerRow:
    contact_id: int
    lead_id: int
    last_text_back_at: datetime | None
    opted_out: bool
    #: The lead was opened by this call, and its version.
    lead_created: bool = False
    lead_version: int = 0


def attach_caller(
    dialect: str, business: str, phone: str, at: datetime, source: str | None = None
) -> Script[CallerRow]:
    """The caller's contact and open lead, created if missing, with this call counted, and
    whether they opted out: two statements, whoever else is inserting the same caller at the
    same moment. ``source`` (the called number's label) goes on a lead that has none."""
    [contact] = yield ATTACH_CONTACT.bind(dialect, business, phone, at)
    [lead] = yield ATTACH_LEAD.bind(
        dialect, business, contact["id"], phone, f"{business}:{phone}", at, at, at, at, source
    )
    return CallerRow(
        contact["id"],
        lead["id"],
        _timestamp(contact["last_text_back_at"]),
        bool(contact["opted_out"]),
        bool(lead["created"]),
        int(lead["version"] or 0),
    )


def insert_call(dialect: str, values: dict[str, Any]) -> Script[int | None]:
    """Store a call; ``None`` if this provider's call id is already stored (a retried webhook)."""
    row = {**values, "provider_data": json.dumps(values["provider_data"], default=str)}
    rows = yield INSERT_CALL.bind(dialect, *(row[c] for c in _CALL_COLUMNS), values["at"])
    return int(rows[0]["id"]) if rows else None


def set_last_text_back(dialect: str, contact_id: int, at: datetime) -> Script[None]:
    yield SET_LAST_TEXT_BACK.bind(dialect, at, contact_id)


def set_skipped(dialect: str, call_id: int, reason: str) -> Script[None]:
    yield SET_SKIPPED.bind(dialect, reason, call_id)


def call_view(call: Call) -> CallView:
    return CallView(
        id=call.id,
        business=call.business,
        called=call.called,
        after_hours=call.after_hours,
        outcome=call.outcome,
        caller=call.caller,
        provider=call.provider,
        provider_call_id=call.provider_call_id,
        lead_id=call.lead_id,
        skipped_reason=call.skipped_reason,
        forwarded_from=call.forwarded_from,
        recording_url=call.recording_url,
        at=call.at,
    )


async def find(business: str, provider: str, provider_call_id: str) -> CallView | None:
    call = await Call.get_or_none(
        business=business, provider=provider, provider_call_id=provider_call_id
    )
    return call_view(call) if call else None


async def get(call_id: int) -> CallView | None:
    call = await Call.get_or_none(id=call_id)
    return call_view(call) if call else None


async def insert_outbound(uow: UnitOfWork, **values: Any) -> int:
    """Store a call the business made; ``Duplicate`` if this call id is already stored."""
    try:
        call = await Call.create(**values, using_db=uow.connection)
    except IntegrityError as exc:
        raise Duplicate(str(exc)) from exc
    return call.id


async def for_lead(lead_id: int) -> list[CallView]:
    return [call_view(call) for call in await Call.filter(lead_id=lead_id).order_by("at", "id")]


async def attach_recording(
    business: str, provider: str, provider_call_id: str, recording_url: str
) -> bool:
    """Keep a voicemail's URL on a stored call; ``False`` if unknown or it has one already."""
    updated = await Call.filter(
        business=business,
        provider=provider,
        provider_call_id=provider_call_id,
        recording_url__isnull=True,
    ).update(recording_url=recording_url[:512])
    return bool(updated)
