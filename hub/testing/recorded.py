"""What the hub recorded, for a test to assert on: its calls, leads, texts, opt-outs, contacts,
jobs and the provider events it acted on, as plain snapshots (``CallView``, ``LeadView`` and the
frozen dataclasses below), never ORM objects. A plugin's tests read them here instead of
importing the hub's models::

    async with in_process_hub(path) as kit:
        ...
        call = await kit.recorded.call(provider_call_id="CA123")   # exactly one, or it fails
        assert call.outcome == "missed"
        [text_back] = await kit.recorded.messages(direction="out")
        assert (await kit.recorded.contact("+15125550123")).can_receive_sms is False

Leads and a lead's detail come from the hub's read layer (``Hub.reads``, what the CLI and the
dashboard read); the rest from small queries of its own. Every value is read when asked: a test
that changed something reads again (``await kit.recorded.message(message.id)``).

``Recorded(hub)`` works on any started hub; ``InProcessHub.recorded`` is the one for its hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from hub.models import Call, Contact, InboxEvent, Job, Message, OptOut
from hub.runtime import Hub
from hub.store.calls import call_view
from hub.store.reads import LeadDetail, LeadFilter
from hub.views import CallView, LeadView

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One text, in (``direction="in"``, from a customer) or out (sent by the hub)."""

    id: int
    business: str
    lead_id: int | None
    #: The customer's number, E.164.
    phone: str
    #: The business's number the conversation uses.
    business_number: str | None
    direction: str
    #: ``text_back``, ``reply`` (from the customer), ``follow_up``...
    purpose: str
    body: str
    status: str
    provider: str | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    #: What an outbound text answers (``text_back:CALL_ID``...): one text per cause.
    source_key: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordedOptOut:
    """A caller who asked a business not to text them (``active``), or did and opted back in."""

    business: str
    phone: str
    active: bool
    #: ``keyword``, ``natural_language``, ``provider``, ``provider_error``, ``dashboard``.
    source: str
    detail: str | None
    opted_out_at: datetime
    opted_in_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordedContact:
    """A caller as one business knows them."""

    business: str
    phone: str
    name: str | None
    #: ``False`` once a provider said this number cannot receive texts; ``None``: not known.
    can_receive_sms: bool | None
    #: What a line-type lookup found (``mobile``, ``landline``...), ``None`` if nothing yet.
    line_type: str | None
    line_type_checked_at: datetime | None = None
    last_text_back_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordedJob:
    """A durable job: ``state`` is ``available`` (waiting, perhaps for a retry: ``attempt`` > 0),
    ``running``, ``completed``, ``failed``..."""

    id: int
    kind: str
    state: str
    business: str | None
    key: str | None
    attempt: int
    max_attempts: int
    #: When it is due, epoch milliseconds by the hub's clock.
    run_at_ms: int
    last_error: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


class Recorded:
    """Reads of what ``hub`` recorded (see the module). Filters given as keywords must all
    hold; ``None`` means any. The plural methods return every match, oldest first (leads: most
    recently updated first, as the read layer orders them); the singular ones exactly one match,
    and fail the test (``AssertionError``, naming what matched) otherwise."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- calls and leads --------------------------------------------------------------------------

    async def calls(
        self,
        *,
        business: str | None = None,
        provider_call_id: str | None = None,
        caller: str | None = None,
        outcome: str | None = None,
    ) -> list[CallView]:

        where = _where(
            business=business, provider_call_id=provider_call_id, caller=caller, outcome=outcome
        )
        return [call_view(row) for row in await Call.filter(**where).order_by("id")]

    async def call(
        self,
        provider_call_id: str | None = None,
        *,
        business: str | None = None,
        caller: str | None = None,
    ) -> CallView:
        """The one call matching (with no filter: the only call the hub has)."""
        found = await self.calls(
            business=business, provider_call_id=provider_call_id, caller=caller
        )
        return _one("call", found, provider_call_id=provider_call_id, caller=caller)

    async def leads(
        self,
        *,
        business: str | None = None,
        phone: str | None = None,
        status: str | None = None,
    ) -> list[LeadView]:
        """Leads (open or closed) through the hub's read layer, most recently updated first."""
        where = LeadFilter(business=business, status=status, text=phone)
        leads: list[LeadView] = []
        cursor: str | None = None
        while True:
            page = await self.hub.reads.leads(where, limit=200, cursor=cursor)
            leads += page.leads
            if page.cursor is None:
                break
            cursor = page.cursor
        return [lead for lead in leads if phone is None or lead.caller == phone]

    async def lead(
        self,
        phone: str | None = None,
        *,
        business: str | None = None,
        status: str | None = None,
    ) -> LeadView:
        """The one lead matching (with no filter: the only lead the hub has)."""
        found = await self.leads(business=business, phone=phone, status=status)
        return _one("lead", found, phone=phone, business=business, status=status)

    async def lead_detail(self, lead_id: int) -> LeadDetail:
        """A lead with its calls, messages, timeline and deliveries (``Hub.reads``)."""
        detail = await self.hub.reads.lead_detail(lead_id)
        assert detail is not None, f"the hub has no lead {lead_id}"
        return detail

    # -- texts ------------------------------------------------------------------------------------

    async def messages(
        self,
        *,
        business: str | None = None,
        phone: str | None = None,
        direction: str | None = None,
        purpose: str | None = None,
        status: str | None = None,
        lead_id: int | None = None,
        source_key: str | None = None,
        provider_message_id: str | None = None,
    ) -> list[RecordedMessage]:

        where = _where(
            business=business,
            phone=phone,
            direction=direction,
            purpose=purpose,
            status=status,
            lead_id=lead_id,
            source_key=source_key,
            provider_message_id=provider_message_id,
        )
        return [_message(row) for row in await Message.filter(**where).order_by("id")]

    async def message(
        self,
        id: int | None = None,
        *,
        phone: str | None = None,
        direction: str | None = None,
        source_key: str | None = None,
        provider_message_id: str | None = None,
    ) -> RecordedMessage:
        """The one text matching: by its ``id``, or by the other filters."""

        where = _where(
            id=id,
            phone=phone,
            direction=direction,
            source_key=source_key,
            provider_message_id=provider_message_id,
        )
        found = [_message(row) for row in await Message.filter(**where).order_by("id")]
        return _one("message", found, **where)

    # -- the people texted ------------------------------------------------------------------------

    async def opt_outs(
        self,
        *,
        business: str | None = None,
        phone: str | None = None,
        active: bool | None = None,
        source: str | None = None,
    ) -> list[RecordedOptOut]:

        where = _where(business=business, phone=phone, active=active, source=source)
        return [
            RecordedOptOut(
                row.business,
                row.phone,
                row.active,
                row.source,
                row.detail,
                row.opted_out_at,
                row.opted_in_at,
            )
            for row in await OptOut.filter(**where).order_by("id")
        ]

    async def opt_out(self, phone: str, *, business: str | None = None) -> RecordedOptOut:
        """The opt-out record of ``phone`` (active or not): exactly one."""
        found = await self.opt_outs(business=business, phone=phone)
        return _one("opt-out", found, phone=phone, business=business)

    async def contacts(
        self, *, business: str | None = None, phone: str | None = None
    ) -> list[RecordedContact]:

        where = _where(business=business, phone=phone)
        return [
            RecordedContact(
                row.business,
                row.phone,
                row.name,
                row.can_receive_sms,
                row.line_type,
                row.line_type_checked_at,
                row.last_text_back_at,
            )
            for row in await Contact.filter(**where).order_by("id")
        ]

    async def contact(self, phone: str, *, business: str | None = None) -> RecordedContact:
        """The contact of ``phone``: exactly one."""
        found = await self.contacts(business=business, phone=phone)
        return _one("contact", found, phone=phone, business=business)

    # -- the machinery ----------------------------------------------------------------------------

    async def jobs(
        self,
        *,
        kind: str | None = None,
        state: str | None = None,
        business: str | None = None,
    ) -> list[RecordedJob]:
        """Jobs in the queue, finished ones included (``state``)."""

        where = _where(kind=kind, state=state, business=business)
        return [
            RecordedJob(
                id=row.id,
                kind=row.kind,
                state=row.state,
                business=row.business,
                key=row.key,
                attempt=row.attempt,
                max_attempts=row.max_attempts,
                run_at_ms=row.run_at_ms,
                last_error=row.last_error,
                payload=dict(row.payload or {}),
            )
            for row in await Job.filter(**where).order_by("id")
        ]

    async def provider_events(self, provider: str | None = None) -> list[tuple[str, str]]:
        """Every provider event the hub acted on (an inbound text, a status callback...), as
        ``(provider, event_key)``: what makes a retried webhook a no-op."""

        rows = await InboxEvent.filter(**_where(provider=provider)).order_by("id")
        return [(row.provider, row.event_key) for row in rows]


def _where(**conditions: object) -> dict[str, object]:
    return {name: value for name, value in conditions.items() if value is not None}


def _one(what: str, found: Sequence[T], **where: object) -> T:
    if len(found) != 1:
        conditions = ", ".join(f"{k}={v!r}" for k, v in where.items() if v is not None)
        raise AssertionError(
            f"expected exactly one {what}"
            + (f" with {conditions}" if conditions else "")
            + f", the hub recorded {len(found)}: {list(found)!r}"
        )
    return found[0]


def _message(row: Any) -> RecordedMessage:
    return RecordedMessage(
        id=row.id,
        business=row.business,
        lead_id=row.lead_id,
        phone=row.phone,
        business_number=row.business_number,
        direction=str(row.direction),
        purpose=row.purpose,
        body=row.body,
        status=row.status,
        provider=row.provider,
        provider_message_id=row.provider_message_id,
        error_code=row.error_code,
        error=row.error,
        source_key=row.source_key,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


__all__ = ["Recorded", "RecordedContact", "RecordedJob", "RecordedMessage", "RecordedOptOut"]
