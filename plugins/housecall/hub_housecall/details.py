"""What the hub knows about a lead, in plain text for a Housecall Pro lead's note and the
customer's notes (Housecall Pro shows them as text)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import hub

#: Longest customer text kept in one note.
MAX_WORDS = 5_000
FIELD_NAMES = {
    "name": "Name",
    "service": "Service",
    "zip": "ZIP",
    "urgency": "Urgency",
    "callback_start": "Callback from",
    "callback_end": "Callback until",
}


def local(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def callback(lead: hub.LeadView, timezone: str) -> str:
    if lead.callback_start is None:
        return ""
    start = local(lead.callback_start, timezone)
    if lead.callback_end is None:
        return start
    return f"{start}-{local(lead.callback_end, timezone)[-5:]}"


def summary(lead: hub.LeadView, timezone: str) -> str:
    """The lead, one fact a line: a new lead's note. Its last line names the hub's lead, which
    is how an unanswered create is found again."""
    called = local(lead.last_call_at or lead.first_call_at, timezone)
    lines = [
        f"Missed call from {lead.caller}" + (" (after hours)" if lead.after_hours else ""),
        f"Called: {called} ({timezone})",
        f"Name: {lead.name or ''}",
        f"Service: {lead.service or ''}",
        f"ZIP: {lead.zip or ''}",
        f"Urgency: {lead.urgency or ''}",
        f"Callback window: {callback(lead, timezone)}",
    ]
    words = "\n".join(f"> {text}" for text in lead.customer_words)
    if words:
        lines += ["The customer's words:", words[:MAX_WORDS]]
    lines.append(marker(lead))
    return "\n".join(lines)


def marker(lead: hub.LeadView) -> str:
    return f"(hub lead #{lead.id} of {lead.business_name})"


def change_note(event: hub.Event, timezone: str) -> str | None:
    """A note for a ``lead.updated``: the fields that changed, their new values."""
    parts = []
    for name, change in event.changes.items():
        label = FIELD_NAMES.get(name)
        if label is None or change.after is None:
            continue
        value = change.after
        shown = local(value, timezone) if isinstance(value, datetime) else str(value)
        parts.append(f"{label}: {shown}")
    if not parts:
        return None
    return f"Lead #{event.lead.id} updated: " + "; ".join(parts)


def message_note(event: hub.Event) -> str | None:
    if event.message is None or not event.message.body:
        return None
    return f"The customer texted (lead #{event.lead.id}): {event.message.body[:MAX_WORDS]}"


def status_note(event: hub.Event) -> str:
    return f"Lead #{event.lead.id} is now {event.lead.status} in the hub"
