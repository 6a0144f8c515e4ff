"""The JSON body of a webhook: ``{"type", "timestamp", "data"}`` (Standard Webhooks), ``data``
holding ``version`` (of this layout: see the README) and the lead's typed view.

Receivers keep bodies small (the spec says ~20 KB): the customer's own words, a text's body and
a notification's text are the only parts that can grow, so they are cut, newest words kept,
until the body fits, and ``data.truncated`` says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import hub

#: Bumped when a field changes meaning or goes away; new fields do not bump it.
PAYLOAD_VERSION = 1
MAX_BYTES = 20_000
_ELLIPSIS = "…"


def payload(event: hub.Event, *, limit: int = MAX_BYTES) -> bytes:
    """The body for ``event``, at most ``limit`` bytes of UTF-8 JSON."""
    data = _data(event)
    body = _dumps(event, data)
    cap = 4000  # characters per cut field, halved until the body fits
    while len(body) > limit and cap >= 16:
        data = _data(event, cap=cap)
        data["truncated"] = True
        body = _dumps(event, data)
        cap //= 2
    return body


def _dumps(event: hub.Event, data: dict[str, Any]) -> bytes:
    envelope = {"type": event.kind.value, "timestamp": event.at.isoformat(), "data": data}
    return json.dumps(envelope, ensure_ascii=False, default=_default).encode()


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _cut(text: str, cap: int | None) -> str:
    return text if cap is None or len(text) <= cap else text[: cap - 1] + _ELLIPSIS


def _data(event: hub.Event, *, cap: int | None = None) -> dict[str, Any]:
    lead = asdict(event.lead)
    words = [_cut(word, cap) for word in event.lead.customer_words]
    if cap is not None:
        kept: list[str] = []
        for word in reversed(words):  # the newest words say the most about what they need now
            if sum(map(len, kept)) + len(word) > 2 * cap:
                break
            kept.insert(0, word)
        words = kept
    lead["customer_words"] = words
    message = asdict(event.message) if event.message else None
    if message is not None:
        message["body"] = _cut(message["body"], cap)
    notification = None
    if event.notification is not None:
        note = event.notification
        notification = {
            "kind": note.kind,
            "subject": note.subject,
            "text": _cut(note.text, cap),
            "urgent": note.urgent,
            "url": note.url,
        }
    return {
        "version": PAYLOAD_VERSION,
        "event_id": event.id,
        "business": event.business,
        "actor": event.actor,
        "lead_version": event.lead_version,
        "lead": lead,
        "changes": {name: asdict(change) for name, change in event.changes.items()},
        "message": message,
        "call": asdict(event.call) if event.call else None,
        "notification": notification,
        "truncated": False,
    }
