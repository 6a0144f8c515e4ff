"""Reads for people: the CLI now, the dashboard and the API next. Every answer is made of
typed views (``LeadView``, ``CallView``) and plain dataclasses, never ORM objects."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.models import LeadEvent
from hub.store import calls as call_rows
from hub.store import deliveries as delivery_rows
from hub.store import messages as message_rows
from hub.store.db import Database
from hub.store.leads import VIEW_BY_ID, _timestamp, lead_view, view_columns
from hub.store.numbers import Numbers, numbers
from hub.store.sql import Sql
from hub.views import CallView, LeadView


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Which leads: every condition given must hold. ``text`` matches the caller's number,
    name, service or ZIP, or the customer's own words (case-insensitive, anywhere in them);
    ``source`` is the campaign or place of the number called (``numbers: [{source: ...}]``).

    ``businesses`` scopes the answer to those slugs (``None``: every business), as a
    signed-in user's view must be. ``since``/``until`` bound the last activity
    (``updated_at``). ``stale_before`` keeps only leads still ``new`` and created before
    their business's time in it (the inbox's "needs attention").
    """

    business: str | None = None
    status: str | None = None
    since: datetime | None = None
    text: str | None = None
    businesses: frozenset[str] | None = None
    urgency: str | None = None
    until: datetime | None = None
    source: str | None = None
    stale_before: Mapping[str, datetime] | None = None


@dataclass(frozen=True, slots=True)
class LeadPage:
    """One page of leads, most recently updated first; ``cursor`` fetches the next one."""

    leads: list[LeadView]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    direction: str
    purpose: str
    body: str
    status: str
    phone: str
    created_at: datetime | None
    provider: str | None = None
    error: str | None = None
    #: The sender's id for the text (what its delivery reports name).
    provider_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    sink: str
    kind: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class LeadDetail:
    """One lead with everything that happened to it."""

    lead: LeadView
    calls: list[CallView]
    messages: list[MessageView]
    timeline: list[TimelineEntry]
    deliveries: list[DeliveryView]


@dataclass(frozen=True, slots=True)
class LeadCounts:
    """Counts for analytics over a set of leads (``LeadFilter``)."""

    leads: int
    by_status: dict[str, int]
    calls: int
    texts_sent: int
    replies: int


@dataclass(frozen=True, slots=True)
class ActivityMark:
    """How far a watcher has seen (``Reads.activity_since``): the latest lead change (and the
    leads changed at that instant), and the latest text."""

    updated_at: datetime | None
    message_id: int
    seen: frozenset[int] = frozenset()


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join('{}' for _ in values)})" if values else "1 = 0"


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its own ``%`` and ``_`` literal."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(where: LeadFilter) -> tuple[list[str], list[Any]]:
    """SQL conditions (``{}`` marks) and their values for ``where``; only what it gives."""
    parts: list[str] = []
    values: list[Any] = []

    def add(condition: str, *given: Any) -> None:
        parts.append(condition)
        values.extend(given)

    if where.businesses is not None:
        slugs = sorted(where.businesses)
        if not slugs:
            add("1 = 0")
        else:
            add(f"l.business IN ({', '.join('{}' for _ in slugs)})", *slugs)
    if where.business is not None:
        add("l.business = {}", where.business)
    if where.status is not None:
        add("l.status = {}", where.status)
    if where.urgency is not None:
        add("l.urgency = {}", where.urgency)
    if where.source is not None:
        add("l.source = {}", where.source)
    if where.since is not None:
        add("l.updated_at >= {}", where.since)
    if where.until is not None:
        add("l.updated_at < {}", where.until)
    if where.text:
        like = _like(where.text)
        columns = ["l.phone", "COALESCE(l.name, '')", "COALESCE(l.service, '')"]
        columns.append("COALESCE(l.zip, '')")
        matches = [f"LOWER({column}) LIKE {{}} ESCAPE '\\'" for column in columns]
        words = (
            "EXISTS (SELECT 1 FROM hub_message m WHERE m.lead_id = l.id AND m.direction = 'in'"
            " AND LOWER(m.body) LIKE {} ESCAPE '\\')"
        )
        add(f"({' OR '.join([*matches, words])})", *([like] * 5))
    if where.stale_before is not None:
        stale = sorted(where.stale_before.items())
        if not stale:
            add("1 = 0")
        else:
            either = " OR ".join("(l.business = {} AND l.created_at < {})" for _ in stale)
            add(f"l.status = 'new' AND ({either})", *[v for pair in stale for v in pair])
    return parts, values


_COUNTS = (
    "SELECT l.status, COUNT(*) AS leads, COALESCE(SUM(l.call_count), 0) AS calls,"
    " COALESCE(SUM((SELECT COUNT(*) FROM hub_message m WHERE m.business = l.business"
    "   AND m.phone = l.phone AND m.lead_id = l.id AND m.direction = 'out'"
    "   AND m.status <> 'failed')), 0) AS sent,"
    " COALESCE(SUM((SELECT COUNT(*) FROM hub_message m WHERE m.business = l.business"
    "   AND m.phone = l.phone AND m.lead_id = l.id AND m.direction = 'in')), 0) AS replies"
    " FROM hub_lead l WHERE ({} IS NULL OR l.business = {}) AND ({} IS NULL OR l.created_at >= {})"
    " GROUP BY l.status"
)
COUNTS = Sql(
    _COUNTS,
    postgres=_COUNTS.replace(
        "({} IS NULL OR l.business", "(CAST({} AS TEXT) IS NULL OR l.business"
    ).replace("({} IS NULL OR l.created_at", "(CAST({} AS TIMESTAMPTZ) IS NULL OR l.created_at"),
)


def _encode_cursor(lead: LeadView) -> str:
    raw = json.dumps([lead.updated_at.isoformat() if lead.updated_at else None, lead.id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    try:
        at, lead_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return (datetime.fromisoformat(at) if at else None), int(lead_id)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a cursor: {cursor!r}") from exc


class Reads:
    """Reads over one database. ``business_names`` names each business (from hub.yaml)."""

    def __init__(self, db: Database, business_names: Mapping[str, str]) -> None:
        self.db = db
        self.business_names = business_names

    def _name(self, slug: str) -> str:
        return self.business_names.get(slug, slug)

    async def leads(
        self, where: LeadFilter = LeadFilter(), *, limit: int = 50, cursor: str | None = None
    ) -> LeadPage:
        """Leads matching ``where``, most recently updated first, ``limit`` at a time."""
        parts, values = _where(where)
        if cursor:
            after_at, after_id = _decode_cursor(cursor)
            if after_at is None:
                parts.append("l.id < {}")
                values.append(after_id)
            else:
                parts.append("(l.updated_at < {} OR (l.updated_at = {} AND l.id < {}))")
                values += [after_at, after_at, after_id]
        sql = (
            f"SELECT {view_columns(self.db.dialect)} FROM hub_lead l"
            f" WHERE {' AND '.join(parts) or '1 = 1'}"
            " ORDER BY l.updated_at DESC, l.id DESC LIMIT {}"
        )
        rows = await self.db.fetch(Sql(sql).bind(self.db.dialect, *values, limit + 1))
        leads = [lead_view(row, self._name(row["business"])) for row in rows[:limit]]
        more = len(rows) > limit
        return LeadPage(leads, _encode_cursor(leads[-1]) if more and leads else None)

    async def last_messages(self, lead_ids: list[int]) -> dict[int, MessageView]:
        """Each lead's latest text (either way), for a list of leads."""
        if not lead_ids:
            return {}
        marks = ", ".join("{}" for _ in lead_ids)
        sql = Sql(
            "SELECT m.id, m.lead_id, m.direction, m.purpose, m.body, m.status, m.phone,"
            " m.created_at, m.provider, m.provider_message_id, m.error FROM hub_message m"
            " WHERE m.id IN (SELECT MAX(x.id) FROM hub_message x"
            f" WHERE x.lead_id IN ({marks}) GROUP BY x.lead_id)"
        )
        rows = await self.db.fetch(sql.bind(self.db.dialect, *lead_ids))
        return {
            int(row["lead_id"]): MessageView(
                id=int(row["id"]),
                direction=str(row["direction"]),
                purpose=row["purpose"],
                body=row["body"],
                status=row["status"],
                phone=row["phone"],
                created_at=_timestamp(row["created_at"]),
                provider=row["provider"],
                provider_message_id=row["provider_message_id"],
                error=row["error"],
            )
            for row in rows
        }

    async def activity_mark(self, businesses: frozenset[str]) -> ActivityMark:
        """Where a watcher of ``businesses`` starts: everything so far counts as seen."""
        slugs = sorted(businesses)
        leads = await self.db.fetch(
            Sql(f"SELECT MAX(l.updated_at) AS at FROM hub_lead l WHERE {_in('l.business', slugs)}")
            .bind(self.db.dialect, *slugs)
        )  # fmt: skip
        texts = await self.db.fetch(
            Sql(f"SELECT MAX(m.id) AS id FROM hub_message m WHERE {_in('m.business', slugs)}")
            .bind(self.db.dialect, *slugs)
        )  # fmt: skip
        at = _timestamp(leads[0]["at"]) if leads else None
        seen: frozenset[int] = frozenset()
        if at is not None:
            rows = await self.db.fetch(
                Sql(f"SELECT l.id FROM hub_lead l WHERE {_in('l.business', slugs)}"
                    " AND l.updated_at = {}").bind(self.db.dialect, *slugs, at)
            )  # fmt: skip
            seen = frozenset(int(row["id"]) for row in rows)
        return ActivityMark(at, int(texts[0]["id"] or 0) if texts else 0, seen)

    async def activity_since(
        self, businesses: frozenset[str], mark: ActivityMark, *, limit: int = 200
    ) -> tuple[list[int], ActivityMark]:
        """Leads of ``businesses`` changed or texted since ``mark``, and the mark after them."""
        slugs = sorted(businesses)
        where = _in("l.business", slugs)
        values: list[Any] = [*slugs]
        if mark.updated_at is not None:
            where += " AND l.updated_at >= {}"
            values.append(mark.updated_at)
        leads = await self.db.fetch(
            Sql(f"SELECT l.id, l.updated_at FROM hub_lead l WHERE {where}"
                " ORDER BY l.updated_at, l.id LIMIT {}").bind(self.db.dialect, *values, limit)
        )  # fmt: skip
        texts = await self.db.fetch(
            Sql(f"SELECT m.id, m.lead_id FROM hub_message m WHERE {_in('m.business', slugs)}"
                " AND m.id > {} ORDER BY m.id LIMIT {}")
            .bind(self.db.dialect, *slugs, mark.message_id, limit)
        )  # fmt: skip
        changed: list[int] = []
        at, seen = mark.updated_at, set(mark.seen)
        for row in leads:
            lead_id, when = int(row["id"]), _timestamp(row["updated_at"])
            if when == mark.updated_at and lead_id in mark.seen:
                continue
            changed.append(lead_id)
            if when != at:
                at, seen = when, set()
            seen.add(lead_id)
        message_id = mark.message_id
        for row in texts:
            message_id = int(row["id"])
            if row["lead_id"] is not None and int(row["lead_id"]) not in changed:
                changed.append(int(row["lead_id"]))
        return changed, ActivityMark(at, message_id, frozenset(seen))

    async def numbers(self, businesses: list[str], since: datetime) -> dict[str, Numbers]:
        """Each business's calls, missed calls, text-backs, reply and booked rates and daily
        counts since ``since`` (``hub.store.numbers``)."""
        return await numbers(self.db, businesses, since)

    async def lead(self, lead_id: int) -> LeadView | None:
        rows = await self.db.fetch(VIEW_BY_ID.bind(self.db.dialect, lead_id))
        return lead_view(rows[0], self._name(rows[0]["business"])) if rows else None

    async def lead_detail(self, lead_id: int) -> LeadDetail | None:
        """One lead with its calls, texts, timeline and deliveries, oldest first."""
        lead = await self.lead(lead_id)
        if lead is None:
            return None
        messages = [
            MessageView(
                id=m.id,
                direction=str(m.direction),
                purpose=m.purpose,
                body=m.body,
                status=m.status,
                phone=m.phone,
                created_at=m.created_at,
                provider=m.provider,
                provider_message_id=m.provider_message_id,
                error=m.error,
            )
            for m in await message_rows.for_lead(lead_id)
        ]
        timeline = [
            TimelineEntry(e.at, e.actor, e.kind, dict(e.detail or {}))
            for e in await LeadEvent.filter(lead_id=lead_id).order_by("at", "id")
        ]
        deliveries = [
            DeliveryView(
                d.id, d.sink, d.kind, d.status, d.attempts, d.error, d.created_at, d.delivered_at
            )
            for d in await delivery_rows.for_lead(lead_id)
        ]
        return LeadDetail(lead, await call_rows.for_lead(lead_id), messages, timeline, deliveries)

    async def counts(
        self, *, business: str | None = None, since: datetime | None = None
    ) -> LeadCounts:
        """How many leads (by status), calls, texts sent and replies, for leads created
        ``since`` (all by default)."""
        rows = await self.db.fetch(COUNTS.bind(self.db.dialect, business, business, since, since))
        by_status = {str(row["status"]): int(row["leads"]) for row in rows}
        return LeadCounts(
            leads=sum(by_status.values()),
            by_status=by_status,
            calls=sum(int(row["calls"]) for row in rows),
            texts_sent=sum(int(row["sent"]) for row in rows),
            replies=sum(int(row["replies"]) for row in rows),
        )


__all__ = [
    "ActivityMark",
    "DeliveryView",
    "LeadCounts",
    "LeadDetail",
    "LeadFilter",
    "LeadPage",
    "MessageView",
    "Reads",
    "TimelineEntry",
]
