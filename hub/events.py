"""Lead events: what sinks hear about.

Every change the hub makes that someone outside may care about is an ``Event``: a call came in,
a lead was created, its fields or its status changed, a text came in or went out, and the owner
notifications (new lead, summary, urgent, reminder, reply, cannot text). A sink class declares the
kinds it wants (``Sink.events``); ``hub.yaml`` can narrow them per selection::

    sinks:
      - use: sheets
        on: [lead.created, lead.status_changed]

Each event reaches each subscribed sink as its own durable delivery. ``Event.id`` is the
idempotency id of that delivery: the same event to the same sink carries the same id on every
retry, so a sink that appends a row or creates a record can tell a retry from a new event.
``Event.lead_version`` is the lead's version the event produced; versions only grow, so a sink
that keeps the last version it applied can drop a stale update that arrives late.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.types import Notification
from hub.views import CallView, LeadView, MessageView


class EventKind(enum.StrEnum):
    CALL_RECEIVED = "call.received"
    LEAD_CREATED = "lead.created"
    LEAD_UPDATED = "lead.updated"
    LEAD_STATUS_CHANGED = "lead.status_changed"
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_SENT = "message.sent"
    #: The owner notifications, worded by the core's templates (``Event.notification``).
    NOTIFY_NEW_LEAD = "notify.new_lead"
    NOTIFY_SUMMARY = "notify.summary"
    NOTIFY_URGENT = "notify.urgent"
    NOTIFY_REMINDER = "notify.reminder"
    NOTIFY_REPLY = "notify.reply"
    NOTIFY_CANNOT_TEXT = "notify.cannot_text"
    #: Something the owner has to fix, told once by a plugin (``ProviderContext.tell_owner``).
    NOTIFY_PROBLEM = "notify.problem"

    @classmethod
    def notification(cls, kind: str) -> EventKind:
        """The event of an owner notification kind (``"summary"`` → ``notify.summary``)."""
        return cls(f"notify.{kind}")

    @property
    def is_notification(self) -> bool:
        return self.value.startswith("notify.")


#: What a sink gets unless it says otherwise: the owner notifications.
NOTIFICATIONS = frozenset(kind for kind in EventKind if kind.is_notification)
#: The changes of a lead's record, for sinks that mirror leads (a sheet, a CRM).
LEAD_CHANGES = frozenset(
    {EventKind.LEAD_CREATED, EventKind.LEAD_UPDATED, EventKind.LEAD_STATUS_CHANGED}
)
ALL_EVENTS = frozenset(EventKind)


def parse_kinds(names: Iterable[str]) -> frozenset[EventKind]:
    """Event kinds from their names; ``ValueError`` names the unknown ones and the known."""
    kinds, unknown = set(), []
    for name in names:
        try:
            kinds.add(EventKind(name))
        except ValueError:
            unknown.append(name)
    if unknown:
        known = ", ".join(sorted(EventKind))
        raise ValueError(f"unknown event {', '.join(map(repr, unknown))}; known: {known}")
    return frozenset(kinds)


@dataclass(frozen=True, slots=True)
class Change:
    """One field's value before and after a change."""

    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Event:
    """One event for one sink.

    ``lead`` is the lead as it is when the event is delivered (its fields may be newer than the
    event); ``lead_version`` is the version this event produced.
    """

    kind: EventKind
    #: Idempotency id: stable across retries of this event to this sink.
    id: str
    business: str
    at: datetime
    lead: LeadView
    lead_version: int
    #: Who caused it: ``customer``, ``owner``, ``cli``, ``plugin:rules``, ``system``...
    actor: str = "system"
    #: ``lead.updated``: the fields that changed; ``lead.status_changed``: ``{"status": ...}``.
    changes: Mapping[str, Change] = field(default_factory=dict)
    message: MessageView | None = None
    call: CallView | None = None
    #: ``notify.*`` events: the words the core's templates made for the owner.
    notification: Notification | None = None
    #: Which try of this delivery this is: 1, then 2 on the first retry... (at most 10). A
    #: sink with its own retry schedule (Standard Webhooks') picks its delay by it.
    attempt: int = 1
