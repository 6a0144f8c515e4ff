"""The lead fields a sheet's columns may hold, and how each is written in a cell.

Every value is written RAW (``valueInputOption=RAW``): a string stays the string it is, so a
customer's ``=HYPERLINK(...)`` is never a formula and a ``+1512...`` never a number. Times are
written in the business's own timezone, as its owner reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import hub

#: A cell's value as the Sheets API takes it in JSON.
Cell = str | int


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    value: Callable[[hub.LeadView, ZoneInfo], Cell]
    description: str


def _time(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""


def _callback(lead: hub.LeadView, zone: ZoneInfo) -> str:
    if lead.callback_start is None:
        return ""
    start = _time(lead.callback_start, zone)
    if lead.callback_end is None:
        return start
    end = lead.callback_end.astimezone(zone)
    same_day = end.date() == lead.callback_start.astimezone(zone).date()
    return f"{start}-{end:%H:%M}" if same_day else f"{start} - {_time(end, zone)}"


def _text(value: str | None) -> str:
    return value or ""


COLUMNS: dict[str, Column] = {
    "received": Column(
        "Received",
        lambda lead, zone: _time(lead.first_call_at or lead.created_at, zone),
        "when the first call came, in the business's timezone (YYYY-MM-DD HH:MM)",
    ),
    "status": Column("Status", lambda lead, _: lead.status, "new, contacted, booked or closed"),
    "name": Column("Name", lambda lead, _: _text(lead.name), "the customer's name"),
    "phone": Column("Phone", lambda lead, _: lead.caller, "the caller's number, E.164"),
    "service": Column("Service", lambda lead, _: _text(lead.service), "what they need"),
    "zip": Column("ZIP", lambda lead, _: _text(lead.zip), "where"),
    "urgency": Column("Urgency", lambda lead, _: _text(lead.urgency), "how soon"),
    "callback": Column("Callback", _callback, "the callback window they asked for"),
    "after_hours": Column(
        "After hours", lambda lead, _: "yes" if lead.after_hours else "no", "yes or no"
    ),
    "words": Column(
        "Customer's words",
        lambda lead, _: "\n".join(lead.customer_words),
        "every text they sent, oldest first, one a line",
    ),
    "business": Column("Business", lambda lead, _: lead.business_name, "the business's name"),
    "lead_id": Column(
        "Lead #", lambda lead, _: lead.id, "the hub's lead id: how the sink finds the row again"
    ),
    "calls": Column("Calls", lambda lead, _: lead.call_count, "how many times they called"),
    "last_call": Column("Last call", lambda lead, zone: _time(lead.last_call_at, zone), "when"),
    "outcome": Column("Outcome", lambda lead, _: _text(lead.outcome), "the last call's outcome"),
    "voicemail": Column(
        "Voicemail", lambda lead, _: _text(lead.voicemail_url), "the voicemail's URL"
    ),
    "updated": Column("Updated", lambda lead, zone: _time(lead.updated_at, zone), "last change"),
}

DEFAULT_COLUMNS = (
    "received",
    "status",
    "name",
    "phone",
    "service",
    "zip",
    "urgency",
    "callback",
    "after_hours",
    "words",
    "business",
    "lead_id",
)


def row(lead: hub.LeadView, columns: tuple[str, ...], timezone: str) -> list[Cell]:
    """The lead's cells, in ``columns`` order."""
    zone = ZoneInfo(timezone)
    return [COLUMNS[name].value(lead, zone) for name in columns]


def header(columns: tuple[str, ...]) -> list[Cell]:
    return [COLUMNS[name].header for name in columns]
