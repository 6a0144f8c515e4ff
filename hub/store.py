"""The statements on the hot paths, in raw SQL: recording a call, and reading and recording a
text. The rest of the hub uses the ORM; here each statement counts, since one process on one
core answers the webhooks and runs the jobs, and an ORM statement costs several times the CPU of
a raw one. Upserts (``ON CONFLICT``) keep racing webhooks correct without savepoints, on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from hub._sqlite import Script
from hub.db import Database
from hub.jobs import Statement

if TYPE_CHECKING:
    from hub.config import Business


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as the driver returned it: asyncpg gives datetimes, SQLite text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class CallerRow:
    contact_id: int
    lead_id: int
    last_text_back_at: datetime | None
    opted_out: bool


def attach_caller(business: str, phone: str, at: datetime) -> Script[CallerRow]:
    """The caller's contact and open lead, created if missing, with this call counted, and
    whether they opted out: two statements, whoever else is inserting the same caller at the
    same moment."""
    [contact] = yield (
        "INSERT INTO hub_contact (business, phone, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (business, phone) DO UPDATE SET phone = excluded.phone"
        " RETURNING id, last_text_back_at, EXISTS (SELECT 1 FROM hub_opt_out o"
        " WHERE o.business = hub_contact.business AND o.phone = hub_contact.phone"
        " AND o.active) AS opted_out",
        [business, phone, at],
    )
    [lead] = yield (
        "INSERT INTO hub_lead (business, contact_id, phone, status, open_key, call_count,"
        " first_call_at, last_call_at, created_at, updated_at)"
        " VALUES (?, ?, ?, 'new', ?, 1, ?, ?, ?, ?)"
        " ON CONFLICT (open_key) DO UPDATE SET call_count = hub_lead.call_count + 1,"
        " first_call_at = COALESCE(hub_lead.first_call_at, excluded.first_call_at),"
        " last_call_at = excluded.last_call_at, updated_at = excluded.updated_at"
        " RETURNING id",
        [business, contact["id"], phone, f"{business}:{phone}", at, at, at, at],
    )
    return CallerRow(
        contact["id"],
        lead["id"],
        as_datetime(contact["last_text_back_at"]),
        bool(contact["opted_out"]),
    )


def insert_call(db: Database, values: dict[str, Any]) -> Script[int | None]:
    """Store a call; ``None`` if this provider's call id is already stored (a retried webhook)."""
    values = {**values, "provider_data": json.dumps(values["provider_data"], default=str)}
    columns = ", ".join(values)
    marks = ", ".join(db.json() if name == "provider_data" else "?" for name in values)
    rows = yield (
        f"INSERT INTO hub_call ({columns}, created_at) VALUES ({marks}, ?)"
        " ON CONFLICT (business, provider, provider_call_id) DO NOTHING RETURNING id",
        [*values.values(), values["at"]],
    )
    return int(rows[0]["id"]) if rows else None


@dataclass(frozen=True, slots=True)
class SendState:
    """What sending one text needs to know, read in one statement."""

    lead_id: int
    phone: str
    contact_id: int
    #: What the templates see of the lead: ``id``, ``phone``, ``name``, ``service``, ``zip``,
    #: ``status`` (as hub check's sample data).
    lead: SimpleNamespace
    opted_out: bool
    cannot_receive: bool
    has_texted: bool
    message_done: bool
    #: Text-backs this business sent since midnight in its timezone (the daily cap).
    sent_today: int


async def send_state(
    db: Database,
    lead_id: int,
    source_key: str,
    *,
    business: Business,
    capped_purpose: str | None,
    now: datetime,
) -> SendState | None:
    midnight = business.local_time(now).replace(hour=0, minute=0, second=0, microsecond=0)
    # Counting today's texts costs a scan of them: only when a cap applies to this text.
    sent_today, count_values = "0", []
    if capped_purpose and business.text_back.daily_cap:
        sent_today = (
            "(SELECT COUNT(*) FROM hub_message s WHERE s.business = l.business"
            " AND s.purpose = ? AND s.created_at >= ? AND s.status <> 'failed')"
        )
        count_values = [capped_purpose, midnight.astimezone(UTC)]
    rows = await db.read(
        "SELECT l.id AS lead_id, l.phone, l.contact_id, l.name, l.service, l.zip, l.status,"
        " c.can_receive_sms,"
        " EXISTS (SELECT 1 FROM hub_opt_out o WHERE o.business = l.business"
        "   AND o.phone = l.phone AND o.active) AS opted_out,"
        " EXISTS (SELECT 1 FROM hub_message p WHERE p.business = l.business"
        "   AND p.phone = l.phone AND p.direction = 'out' AND p.status <> 'failed') AS texted,"
        " EXISTS (SELECT 1 FROM hub_message m WHERE m.source_key = ?) AS done,"
        f" {sent_today} AS sent_today"
        " FROM hub_lead l JOIN hub_contact c ON c.id = l.contact_id WHERE l.id = ?",
        [source_key, *count_values, lead_id],
    )
    if not rows:
        return None
    row = rows[0]
    return SendState(
        lead_id=row["lead_id"],
        phone=row["phone"],
        contact_id=row["contact_id"],
        lead=SimpleNamespace(
            id=row["lead_id"],
            phone=row["phone"],
            name=row["name"],
            service=row["service"],
            zip=row["zip"],
            status=row["status"],
        ),
        opted_out=bool(row["opted_out"]),
        cannot_receive=row["can_receive_sms"] is not None and not row["can_receive_sms"],
        has_texted=bool(row["texted"]),
        message_done=bool(row["done"]),
        sent_today=int(row["sent_today"]),
    )


def insert_message(values: dict[str, Any]) -> Statement:
    columns = ", ".join(values)
    return (
        f"INSERT INTO hub_message ({columns}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
