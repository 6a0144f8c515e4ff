"""What the hub knows about a lead, in words for a deal's description and its notes.

The deal's description is a plain-text property; a note's body is HTML, so everything the
customer wrote is escaped there (a reply of ``<img src=x onerror=...>`` is text, not markup).
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

import hub

#: Longest customer text kept in one description or note: HubSpot stores 65,536 characters.
MAX_WORDS = 20_000
FIELD_NAMES = {
    "name": "Name",
    "service": "Service",
    "zip": "ZIP",
    "urgency": "Urgency",
    "callback_start": "Callback from",
    "callback_end": "Callback until",
    "status": "Status",
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
    """The lead in plain text, one fact a line: a deal's description."""
    called = local(lead.last_call_at or lead.first_call_at, timezone)
    lines = [
        f"Phone: {lead.caller}",
        f"Name: {lead.name or ''}",
        f"Service: {lead.service or ''}",
        f"ZIP: {lead.zip or ''}",
        f"Urgency: {lead.urgency or ''}",
        f"Callback window: {callback(lead, timezone)}",
        f"Called: {called} ({timezone})" + (", after hours" if lead.after_hours else ""),
        f"Missed-call lead #{lead.id} of {lead.business_name}",
    ]
    words = "\n".join(f"> {text}" for text in lead.customer_words)
    if words:
        lines += ["", "The customer's words:", words[:MAX_WORDS]]
    return "\n".join(lines)


def change_note(event: hub.Event, timezone: str) -> str | None:
    """An HTML note for a ``lead.updated``: the fields that changed, new values first."""
    parts = []
    for name, change in event.changes.items():
        label = FIELD_NAMES.get(name)
        if label is None or change.after is None:
            continue
        value = change.after
        shown = local(value, timezone) if isinstance(value, datetime) else str(value)
        parts.append(f"{html.escape(label)}: {html.escape(shown)}")
    if not parts:
        return None
    return "<p><strong>Lead updated</strong></p><p>" + "<br>".join(parts) + "</p>"


def message_note(event: hub.Event) -> str | None:
    """An HTML note for a ``message.received``: the customer's text, escaped."""
    if event.message is None or not event.message.body:
        return None
    body = html.escape(event.message.body[:MAX_WORDS]).replace("\n", "<br>")
    return f"<p><strong>The customer texted</strong> ({html.escape(event.lead.caller)}):</p>" + (
        f"<blockquote>{body}</blockquote>"
    )


def status_note(status: str) -> str:
    return f"<p>Lead status in the hub: <strong>{html.escape(status)}</strong></p>"
