"""The words the plugin writes into Jobber: a request's details and the notes that follow.
Plain text (Jobber escapes what it shows); the customer's words are quoted as they wrote them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import hub


def details(lead: hub.LeadView, timezone: str) -> str:
    zone = ZoneInfo(timezone)

    def at(value: datetime | None) -> str | None:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else None

    when = at(lead.last_call_at or lead.first_call_at)
    lines = [
        "New lead from a missed call" + (" (after hours)" if lead.after_hours else ""),
        f"Phone: {lead.caller}",
        f"Name: {lead.name}" if lead.name else None,
        f"Service: {lead.service}" if lead.service else None,
        f"ZIP: {lead.zip}" if lead.zip else None,
        f"Urgency: {lead.urgency}" if lead.urgency else None,
        _window(lead, at),
        f"Called: {when} ({timezone})" if when else None,
        f"After hours: {'yes' if lead.after_hours else 'no'}",
        f"Hub lead: #{lead.id}",
    ]
    if lead.customer_words:
        lines.append("They said:")
        lines.extend(f"> {words}" for words in lead.customer_words)
    return "\n".join(line for line in lines if line)


def _window(lead: hub.LeadView, at: object) -> str | None:
    if lead.callback_start is None:
        return None
    assert callable(at)
    end = f" to {at(lead.callback_end)}" if lead.callback_end else ""
    return f"Call back: {at(lead.callback_start)}{end}"


def update(event: hub.Event) -> str:
    changes = "; ".join(
        f"{name}: {_plain(change.before)} → {_plain(change.after)}"
        for name, change in event.changes.items()
    )
    return f"Updated in the hub by {event.actor}: {changes or 'details changed'}"


def message(event: hub.Event) -> str:
    text = event.message.body if event.message else ""
    return f"Customer texted: {text}"


def status(event: hub.Event) -> str:
    change = event.changes.get("status")
    before = _plain(change.before) if change else "?"
    return f"Status in the hub: {before} → {event.lead.status} (by {event.actor})"


def _plain(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    return value.isoformat() if isinstance(value, datetime) else str(value)
