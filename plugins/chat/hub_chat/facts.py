"""What a chat message says about an event, before any service's format: a title, the
notification's words, the lead's fields, the customer's own words and a link. Every string
here is raw; each sink escapes it for its own markup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import hub

#: How many of the customer's texts a message quotes (the newest).
WORDS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Facts:
    title: str
    summary: str
    #: ``(label, value)`` for the fields that are known.
    rows: tuple[tuple[str, str], ...]
    #: The customer's own words, oldest first.
    words: tuple[str, ...]
    link: str | None
    urgent: bool
    #: The event's id, shown small: support can find the delivery, a test its message.
    reference: str = ""


def facts(event: hub.Event, timezone: str, lead_url: str | None) -> Facts:
    lead, note = event.lead, event.notification
    zone = ZoneInfo(timezone)
    caller = f"{lead.name} ({lead.caller})" if lead.name else lead.caller
    rows = [
        ("Caller", caller),
        ("Needs", lead.service),
        ("ZIP", lead.zip),
        ("Urgency", lead.urgency),
        ("Call back", _window(lead.callback_start, lead.callback_end, zone)),
        ("Status", lead.status),
    ]
    if note is not None:
        title, summary = note.subject, note.text
    else:
        title = f"{lead.business_name}: {event.kind.value} (lead #{lead.id})"
        summary = _change_summary(event)
    link = note.url if note is not None and note.url else None
    if link is None and lead_url:
        link = lead_url.format(id=lead.id, business=lead.business)
    return Facts(
        title=title,
        summary=summary,
        rows=tuple((label, value) for label, value in rows if value),
        words=lead.customer_words[-WORDS_SHOWN:],
        link=link,
        urgent=bool(note and note.urgent) or lead.urgency == "emergency",
        reference=event.id,
    )


def _window(start: datetime | None, end: datetime | None, zone: ZoneInfo) -> str | None:
    if start is None:
        return None
    first = start.astimezone(zone)
    text = f"{first:%a %b} {first.day}, {_clock(first)}"
    if end is not None:
        text += f"-{_clock(end.astimezone(zone))}"
    return f"{text} {first:%Z}"


def _clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


def _change_summary(event: hub.Event) -> str:
    if event.message is not None:
        who = "They wrote" if event.message.direction == "in" else "We wrote"
        return f"{who}: {event.message.body}"
    changed = ", ".join(
        f"{name}: {change.before or '-'} → {change.after or '-'}"
        for name, change in event.changes.items()
    )
    return changed or f"Lead #{event.lead.id} from {event.lead.caller}"


def clip(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters (a service refuses longer fields)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
