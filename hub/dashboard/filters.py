"""The inbox's query parameters (``business``, ``status``, ``urgency``, ``since``, ``until``,
``q``, ``attention``) read into a ``LeadFilter`` scoped to what the user may see. The inbox,
``/leads.csv`` and ``/events`` read them the same way, so a filtered inbox is a link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from hub.config import Business
from hub.models import LeadStatus
from hub.store.reads import LeadFilter
from hub.store.users import UserView

MAX_QUERY = 100


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """What the user asked for, as given (for the form) and as a filter."""

    values: dict[str, str]
    where: LeadFilter


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} is a date like 2026-03-01") from None


def read_query(
    params: QueryParams, user: UserView, businesses: Mapping[str, Business], now: datetime
) -> InboxQuery:
    """The filter ``params`` ask for; 404 for a business the user may not see (or that does
    not exist: the two look the same), 400 for anything malformed."""
    visible = user.visible(businesses)
    values = {
        key: params.get(key, "").strip()[:MAX_QUERY]
        for key in ("business", "status", "urgency", "since", "until", "q", "attention")
    }
    business = values["business"] or None
    if business is not None and business not in visible:
        raise HTTPException(404)
    status = values["status"] or None
    if status is not None and status not in set(LeadStatus):
        raise HTTPException(400, "status is one of new, contacted, booked, closed")
    # Dates are whole days, in UTC: a link means the same thing to everyone who opens it.
    since = until = None
    if values["since"]:
        since = datetime.combine(_day(values["since"], "since"), time(), UTC)
    if values["until"]:
        until = datetime.combine(_day(values["until"], "until"), time(), UTC) + timedelta(days=1)
    stale = None
    if values["attention"]:
        # "Needs attention": still new after the business's reminder time (wall-clock hours).
        stale = {
            slug: now - timedelta(hours=businesses[slug].follow_ups.remind_owner_after_hours)
            for slug in visible
        }
    where = LeadFilter(
        business=business,
        status=status,
        since=since,
        until=until,
        text=values["q"] or None,
        urgency=values["urgency"] or None,
        businesses=frozenset(visible),
        stale_before=stale,
    )
    return InboxQuery(values, where)
