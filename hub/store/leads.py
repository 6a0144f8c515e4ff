"""Leads and their timeline. ``change_lead`` is the one way a lead changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hub.models import Contact, Lead, LeadStatus
from hub.store.db import Database, UnitOfWork
from hub.store.sql import Script, Sql
from hub.views import LeadView

INSERT_EVENT = Sql(
    "INSERT INTO hub_lead_event (lead_id, at, actor, kind, detail) VALUES ({}, {}, {}, {}, {json})"
)

#: The columns a ``LeadView`` is made of, for a query over ``hub_lead l``.
VIEW_COLUMNS = (
    "l.id, l.business, l.status, l.phone, l.call_count, l.first_call_at, l.last_call_at,"
    " l.name, l.service, l.zip, l.urgency, l.callback_start, l.callback_end, l.version,"
    " l.created_at, l.updated_at, l.closed_at, l.source, l.email,"
    " (SELECT c.outcome FROM hub_call c WHERE c.lead_id = l.id"
    "   ORDER BY c.at DESC, c.id DESC LIMIT 1) AS last_outcome,"
    " (SELECT c.after_hours FROM hub_call c WHERE c.lead_id = l.id"
    "   ORDER BY c.at DESC, c.id DESC LIMIT 1) AS last_after_hours,"
    " (SELECT c.recording_url FROM hub_call c WHERE c.lead_id = l.id"
    "   AND c.recording_url IS NOT NULL ORDER BY c.at DESC, c.id DESC LIMIT 1) AS voicemail_url,"
    " {words} AS customer_words"
)
_WORDS_SQLITE = (
    "(SELECT json_group_array(w.body) FROM (SELECT m.body FROM hub_message m"
    " WHERE m.business = l.business AND m.phone = l.phone AND m.lead_id = l.id"
    " AND m.direction = 'in' ORDER BY m.id) w)"
)
_WORDS_POSTGRES = (
    "(SELECT COALESCE(json_agg(m.body ORDER BY m.id), CAST('[]' AS JSON)) FROM hub_message m"
    " WHERE m.business = l.business AND m.phone = l.phone AND m.lead_id = l.id"
    " AND m.direction = 'in')"
)


def view_columns(dialect: str) -> str:
    """``VIEW_COLUMNS`` for ``dialect``, with ``{`` and ``}`` escaped for ``Sql``."""
    words = _WORDS_POSTGRES if dialect == "postgres" else _WORDS_SQLITE
    return VIEW_COLUMNS.replace("{words}", words).replace("{", "{{").replace("}", "}}")


def _view_sql(where: str) -> Sql:
    return Sql(
        f"SELECT {view_columns('sqlite')} FROM hub_lead l {where}",
        postgres=f"SELECT {view_columns('postgres')} FROM hub_lead l {where}",
    )


VIEW_BY_ID = _view_sql("WHERE l.id = {}")


def _timestamp(value: Any) -> datetime | None:
    """A timestamp as the driver returned it: asyncpg gives datetimes, SQLite text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def lead_view(row: dict[str, Any], business_name: str) -> LeadView:
    """A ``LeadView`` from a row of ``VIEW_COLUMNS``."""
    words = row["customer_words"]
    if isinstance(words, (str, bytes)):
        words = json.loads(words)
    return LeadView(
        id=int(row["id"]),
        business=row["business"],
        business_name=business_name,
        status=str(row["status"]),
        caller=row["phone"],
        call_count=int(row["call_count"] or 0),
        first_call_at=_timestamp(row["first_call_at"]),
        last_call_at=_timestamp(row["last_call_at"]),
        outcome=row["last_outcome"],
        after_hours=bool(row["last_after_hours"]),
        name=row["name"],
        service=row["service"],
        zip=row["zip"],
        urgency=row["urgency"],
        callback_start=_timestamp(row["callback_start"]),
        callback_end=_timestamp(row["callback_end"]),
        customer_words=tuple(str(word) for word in words or ()),
        voicemail_url=row["voicemail_url"],
        version=int(row["version"] or 0),
        created_at=_timestamp(row["created_at"]),
        updated_at=_timestamp(row["updated_at"]),
        closed_at=_timestamp(row["closed_at"]),
        source=row["source"],
        email=row["email"],
    )


async def view(db: Database, lead_id: int, business_name: str) -> LeadView | None:
    """One lead's view, as committed."""
    rows = await db.fetch(VIEW_BY_ID.bind(db.dialect, lead_id))
    return lead_view(rows[0], business_name) if rows else None


class LeadError(Exception):
    """A lead change that cannot be made (unknown lead, a second open lead for a caller)."""


def open_key(business: str, phone: str) -> str:
    return f"{business}:{phone}"


def record(
    dialect: str, lead_id: int, kind: str, *, at: datetime, actor: str = "system", **detail: Any
) -> Script[None]:
    """Add an entry to the lead's timeline: ``yield from`` in a script, or
    ``await uow.run(...)`` in a unit of work."""
    yield INSERT_EVENT.bind(dialect, lead_id, at, actor, kind, json.dumps(detail, default=str))


async def get(lead_id: int, using: BaseDBAsyncClient | None = None) -> Lead | None:
    return await Lead.get_or_none(id=lead_id, using_db=using)


async def get_open(business: str, phone: str) -> Lead | None:
    return await Lead.get_or_none(open_key=open_key(business, phone))


async def open_lead(
    uow: UnitOfWork, business: str, phone: str, source: str | None = None
) -> tuple[Lead, bool]:
    """The caller's open lead with this business (and whether it is new), created with its
    contact if there is none (with ``source``, where the customer came from).

    ``get_or_create`` inserts inside a savepoint and re-reads on a unique violation, so two
    webhooks racing for the same new caller on PostgreSQL end with one lead, not an error.
    """
    tx = uow.connection
    contact, _ = await Contact.get_or_create(business=business, phone=phone, using_db=tx)
    return await Lead.get_or_create(
        open_key=open_key(business, phone),
        defaults={"business": business, "contact_id": contact.id, "phone": phone, "source": source},
        using_db=tx,
    )


#: What ``change_lead`` may change besides the status.
FIELDS = ("name", "service", "zip", "urgency", "callback_start", "callback_end", "email")


@dataclass(frozen=True, slots=True)
class LeadChange:
    """What one ``change_lead`` did: each changed field's old and new value (``status``
    included), and the lead's new version."""

    lead_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    version: int
    actor: str
    at: datetime


_TIMELINE_NAMES = {"callback_start": "callback", "callback_end": "callback"}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def change_lead(
    uow: UnitOfWork,
    lead: Lead,
    *,
    at: datetime,
    actor: str,
    fields: dict[str, Any] | None = None,
    status: LeadStatus | None = None,
    field_actors: dict[str, str] | None = None,
    **detail: Any,
) -> LeadChange | None:
    """Change a lead's fields and/or status, bump its ``version`` and record each change on
    its timeline, all in ``uow``: the one place a lead changes (replies, the CLI, call-backs;
    later the dashboard and the API), so what follows a change (events for sinks) hangs here.

    ``None`` if nothing changed. Closing frees the caller to get a new lead on their next
    call; reopening raises ``LeadError`` if they already have one.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in (fields or {}).items():
        if name not in FIELDS:
            raise ValueError(f"a lead has no field {name!r} to change")
        if value != getattr(lead, name):
            before[name], after[name] = getattr(lead, name), value
            setattr(lead, name, value)
    if status is not None and status != lead.status:
        old = lead.status
        before["status"], after["status"] = str(old), str(status)
        lead.status = status
        if status == LeadStatus.CLOSED:
            lead.open_key = None
            lead.closed_at = at
        elif old == LeadStatus.CLOSED:
            key = open_key(lead.business, lead.phone)
            if await Lead.filter(open_key=key).using_db(uow.connection).exists():
                raise LeadError(f"{lead.phone} already has an open lead with {lead.business}")
            lead.open_key = key
            lead.closed_at = None
    if not after:
        return None
    lead.version = (lead.version or 0) + 1
    changed = [name for name in after if name != "status"]
    if "status" in after:
        changed += ["status", "open_key", "closed_at"]
    await lead.save(using_db=uow.connection, update_fields=[*changed, "version", "updated_at"])
    for name in after:
        if name == "callback_end" and "callback_start" in after:
            continue  # one "callback" entry for the window
        if name == "status":
            await uow.run(
                record(
                    uow.dialect, lead.id, "status", at=at, actor=actor,
                    before=before[name], after=after[name],
                )
            )  # fmt: skip
            continue
        await uow.run(
            record(
                uow.dialect, lead.id, "field", at=at,
                actor=(field_actors or {}).get(name, actor), field=_TIMELINE_NAMES.get(name, name),
                before=_plain(before[name]), after=_plain(after[name]), **detail,
            )
        )  # fmt: skip
    return LeadChange(lead.id, before, after, lead.version, actor, at)
