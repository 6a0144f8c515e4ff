"""Texts, in and out: what sending one needs to know (one read), and recording them.

An outbound text's row is written twice: as an attempt (status ``sending``, no ``sent_at``),
committed before the provider is called, then with its outcome. A row still in that first
state when its job runs again is an attempt whose outcome nobody recorded (a crash, a lease
rescue, a timeout): the provider is asked about it before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hub.models import Direction, Message
from hub.store.db import Database, UnitOfWork
from hub.store.leads import lead_view, view_columns
from hub.store.sql import Script, Sql
from hub.views import LeadView

_SEND_STATE = (
    "SELECT {columns}, l.contact_id, c.can_receive_sms, c.language,"
    " EXISTS (SELECT 1 FROM hub_opt_out o WHERE o.business = l.business"
    "   AND o.phone = l.phone AND o.active) AS opted_out,"
    " EXISTS (SELECT 1 FROM hub_message p WHERE p.business = l.business"
    "   AND p.phone = l.phone AND p.direction = 'out' AND p.status <> 'failed') AS texted,"
    " EXISTS (SELECT 1 FROM hub_message m WHERE m.source_key = {{}}"
    "   AND NOT (m.status = 'sending' AND m.sent_at IS NULL)) AS done,"
    " (SELECT a.id FROM hub_message a WHERE a.source_key = {{}}"
    "   AND a.status = 'sending' AND a.sent_at IS NULL) AS attempt_id,"
    " {sent_today} AS sent_today"
    " FROM hub_lead l JOIN hub_contact c ON c.id = l.contact_id WHERE l.id = {{}}"
)
# Counting today's texts costs a scan of them: only when a cap applies to the text.
_SENT_TODAY = (
    "(SELECT COUNT(*) FROM hub_message s WHERE s.business = l.business"
    " AND s.purpose = {} AND s.created_at >= {} AND s.status <> 'failed')"
)


def _send_state_sql(sent_today: str) -> Sql:
    return Sql(
        _SEND_STATE.format(columns=view_columns("sqlite"), sent_today=sent_today),
        postgres=_SEND_STATE.format(columns=view_columns("postgres"), sent_today=sent_today),
    )


SEND_STATE = _send_state_sql("0")
SEND_STATE_CAPPED = _send_state_sql(_SENT_TODAY)

_MESSAGE_COLUMNS = (
    "business", "lead_id", "phone", "business_number", "direction", "purpose", "body",
    "source_key", "provider", "provider_message_id", "status", "status_rank", "error",
    "error_code", "created_at", "sent_at",
)  # fmt: skip
INSERT_MESSAGE = Sql(
    f"INSERT INTO hub_message ({', '.join(_MESSAGE_COLUMNS)})"
    f" VALUES ({', '.join('{}' for _ in _MESSAGE_COLUMNS)}) RETURNING id"
)
INSERT_ATTEMPT = Sql(
    f"INSERT INTO hub_message ({', '.join(_MESSAGE_COLUMNS)})"
    f" VALUES ({', '.join('{}' for _ in _MESSAGE_COLUMNS)})"
    " ON CONFLICT (source_key) DO NOTHING RETURNING id"
)
_OUTCOME_COLUMNS = (
    "provider", "provider_message_id", "status", "status_rank", "error", "error_code", "sent_at"
)  # fmt: skip
RECORD_OUTCOME = Sql(
    f"UPDATE hub_message SET {', '.join(f'{c} = {{}}' for c in _OUTCOME_COLUMNS)}"
    " WHERE id = {} AND status = 'sending' AND sent_at IS NULL"
)
DROP_ATTEMPT = Sql(
    "DELETE FROM hub_message WHERE id = {} AND status = 'sending' AND sent_at IS NULL"
)
#: An attempt's row is ``sending`` with no ``sent_at`` until its outcome is recorded.
ATTEMPT_STATUS = "sending"


@dataclass(frozen=True, slots=True)
class SendState:
    """What sending one text needs to know, read in one statement."""

    lead: LeadView
    contact_id: int
    opted_out: bool
    cannot_receive: bool
    has_texted: bool
    message_done: bool
    #: The row of an earlier attempt at this text whose outcome was never recorded.
    attempt_id: int | None
    #: Text-backs this business sent since midnight in its timezone (the daily cap).
    sent_today: int
    #: The language the caller last wrote in, if they have (``hub.languages``).
    language: str | None = None

    @property
    def lead_id(self) -> int:
        return self.lead.id

    @property
    def phone(self) -> str:
        return self.lead.caller


async def send_state(
    db: Database,
    lead_id: int,
    source_key: str,
    *,
    business_name: str,
    capped_purpose: str | None = None,
    since: datetime | None = None,
) -> SendState | None:
    """The lead's view and the send checks' facts. ``capped_purpose`` and ``since``: count
    that purpose's texts sent since then (the daily cap)."""
    if capped_purpose is not None and since is not None:
        statement = SEND_STATE_CAPPED.bind(
            db.dialect, source_key, source_key, capped_purpose, since.astimezone(UTC), lead_id
        )
    else:
        statement = SEND_STATE.bind(db.dialect, source_key, source_key, lead_id)
    rows = await db.read(statement)
    if not rows:
        return None
    row = rows[0]
    return SendState(
        lead=lead_view(row, business_name),
        contact_id=row["contact_id"],
        opted_out=bool(row["opted_out"]),
        cannot_receive=row["can_receive_sms"] is not None and not row["can_receive_sms"],
        has_texted=bool(row["texted"]),
        message_done=bool(row["done"]),
        attempt_id=row["attempt_id"],
        sent_today=int(row["sent_today"]),
        language=row["language"],
    )


def insert(dialect: str, values: dict[str, Any]) -> Script[int]:
    """Record a text (``values``: its columns; missing ones are ``NULL``)."""
    unknown = set(values) - set(_MESSAGE_COLUMNS)
    if unknown:
        raise ValueError(f"hub_message has no columns {sorted(unknown)}")
    [row] = yield INSERT_MESSAGE.bind(dialect, *(values.get(c) for c in _MESSAGE_COLUMNS))
    return int(row["id"])


def insert_attempt(dialect: str, values: dict[str, Any]) -> Script[int | None]:
    """Record that a text is about to be sent (``status`` ``sending``): its row's id, or
    ``None`` when a row for its ``source_key`` exists already (another run got there)."""
    values = {**values, "status": ATTEMPT_STATUS, "status_rank": 1, "sent_at": None}
    rows = yield INSERT_ATTEMPT.bind(dialect, *(values.get(c) for c in _MESSAGE_COLUMNS))
    return int(rows[0]["id"]) if rows else None


def record_outcome(dialect: str, message_id: int, values: dict[str, Any]) -> Script[None]:
    """Record how an attempt ended (``values``: its outcome columns)."""
    yield RECORD_OUTCOME.bind(dialect, *(values.get(c) for c in _OUTCOME_COLUMNS), message_id)


def drop_attempt(dialect: str, message_id: int) -> Script[None]:
    """Forget an attempt the provider says never went out, when it will not be sent now."""
    yield DROP_ATTEMPT.bind(dialect, message_id)


async def insert_inbound(uow: UnitOfWork, **values: Any) -> Message:
    return await Message.create(**values, using_db=uow.connection)


async def get(message_id: int) -> Message | None:
    return await Message.get_or_none(id=message_id)


async def by_provider_id(
    uow: UnitOfWork, business: str, provider: str, provider_message_id: str
) -> Message | None:
    """The business's text that ``provider`` knows by this id. Scoped to the business: a
    webhook signed by one business must never reach another's texts, even when both use the
    same provider (ids are the provider's, and a caller may send any id)."""
    return (
        await Message.filter(
            business=business, provider=provider, provider_message_id=provider_message_id
        )
        .using_db(uow.connection)
        .first()
    )


async def by_sender_id(
    uow: UnitOfWork, business: str, providers: Sequence[str], provider_message_id: str
) -> Message | None:
    """The business's text that one of ``providers`` sent under this id."""
    return (
        await Message.filter(
            business=business, provider__in=list(providers), provider_message_id=provider_message_id
        )
        .using_db(uow.connection)
        .first()
    )


async def advance_status(
    uow: UnitOfWork, message_id: int, status: str, rank: int, error_code: str | None
) -> bool:
    """Move a text's status forward only: "delivered" arriving before "sent" stays."""
    updated = (
        await Message.filter(id=message_id, status_rank__lt=rank)
        .using_db(uow.connection)
        .update(status=status, status_rank=rank, error_code=error_code)
    )
    return bool(updated)


async def exists(*, using: BaseDBAsyncClient | None = None, **where: Any) -> bool:
    return await Message.filter(**where).using_db(using).exists()


async def has_inbound(lead_id: int) -> bool:
    return await Message.filter(lead_id=lead_id, direction=Direction.INBOUND).exists()


async def last_outbound(lead_id: int) -> Message | None:
    return (
        await Message.filter(lead_id=lead_id, direction=Direction.OUTBOUND).order_by("-id").first()
    )


async def for_lead(lead_id: int) -> list[Message]:
    return await Message.filter(lead_id=lead_id).order_by("id")
