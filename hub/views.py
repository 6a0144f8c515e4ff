"""The one typed view of a lead and of a call: what templates, sinks, the CLI (and next the
dashboard and the API) see. Read-only snapshots, built by the store (``hub.store``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LeadView:
    """A lead as everyone outside the store sees it: texts and notifications render from it
    (``{{ lead.urgency }}``), sinks receive it in a ``Notification``, the CLI prints it."""

    id: int
    business: str
    business_name: str
    status: str
    #: The caller's number, E.164.
    caller: str
    call_count: int
    first_call_at: datetime | None
    last_call_at: datetime | None
    #: The last call's outcome, and whether it came after hours.
    outcome: str | None
    after_hours: bool
    name: str | None = None
    service: str | None = None
    zip: str | None = None
    urgency: str | None = None
    callback_start: datetime | None = None
    callback_end: datetime | None = None
    #: The customer's own words, oldest first.
    customer_words: tuple[str, ...] = ()
    voicemail_url: str | None = None
    #: Bumped by every change of the lead (``hub.store.leads.change_lead``): a sink can drop
    #: an update older than one it already has.
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    #: Where the customer came from: the label of the number they called or texted
    #: (``numbers: [{number, source}]``), or ``web form``.
    source: str | None = None
    #: The customer's email, when they gave one (a web form).
    email: str | None = None

    @property
    def phone(self) -> str:
        """The caller's number (``caller``)."""
        return self.caller


@dataclass(frozen=True, slots=True)
class CallView:
    """A call as templates and readers see it."""

    id: int
    business: str
    called: str
    after_hours: bool
    outcome: str
    caller: str | None = None
    provider: str | None = None
    provider_call_id: str | None = None
    lead_id: int | None = None
    skipped_reason: str | None = None
    forwarded_from: str | None = None
    recording_url: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageView:
    """A text in a lead's conversation, as events and readers see it."""

    id: int
    #: ``in`` (the customer's) or ``out`` (ours).
    direction: str
    body: str
    purpose: str | None = None
    status: str | None = None
    provider_message_id: str | None = None
    at: datetime | None = None
