"""The API's request and response bodies, as pydantic models: they validate what comes in
(unknown fields are errors) and give the OpenAPI document its schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.store.reads import LeadDetail, MessageView, TimelineEntry
from hub.views import CallView, LeadView

Status = Literal["new", "contacted", "booked", "closed"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lead(_Out):
    id: int
    business: str = Field(description="The business's slug")
    business_name: str
    status: Status
    caller: str = Field(description="The customer's number, E.164")
    name: str | None = None
    email: str | None = None
    service: str | None = None
    zip: str | None = None
    urgency: str | None = Field(None, description="emergency, soon, or what a parser says")
    source: str | None = Field(None, description="The label of the number called, or `web form`")
    callback_start: datetime | None = None
    callback_end: datetime | None = None
    call_count: int
    first_call_at: datetime | None = None
    last_call_at: datetime | None = None
    outcome: str | None = Field(None, description="The last call's outcome")
    after_hours: bool
    customer_words: list[str] = Field(description="The customer's own words, oldest first")
    voicemail_url: str | None = None
    version: int = Field(description="Grows with every change of the lead")
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None

    @classmethod
    def of(cls, lead: LeadView) -> Lead:
        return cls(
            id=lead.id, business=lead.business, business_name=lead.business_name,
            status=lead.status,
            caller=lead.caller, name=lead.name, email=lead.email, service=lead.service,
            zip=lead.zip, urgency=lead.urgency, source=lead.source,
            callback_start=lead.callback_start, callback_end=lead.callback_end,
            call_count=lead.call_count, first_call_at=lead.first_call_at,
            last_call_at=lead.last_call_at, outcome=lead.outcome, after_hours=lead.after_hours,
            customer_words=list(lead.customer_words), voicemail_url=lead.voicemail_url,
            version=lead.version, created_at=lead.created_at, updated_at=lead.updated_at,
            closed_at=lead.closed_at,
        )  # fmt: skip


class LeadPage(_Out):
    leads: list[Lead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


class Call(_Out):
    id: int
    at: datetime | None
    outcome: str
    called: str = Field(description="The business's number that was called")
    after_hours: bool
    skipped_reason: str | None = Field(description="Why no text-back was sent, if none was")
    recording_url: str | None

    @classmethod
    def of(cls, call: CallView) -> Call:
        return cls(
            id=call.id, at=call.at, outcome=call.outcome, called=call.called,
            after_hours=call.after_hours, skipped_reason=call.skipped_reason,
            recording_url=call.recording_url,
        )  # fmt: skip


class Message(_Out):
    id: int
    direction: Literal["in", "out"]
    body: str
    purpose: str = Field(description="text_back, reply (the customer's), staff_reply, form...")
    status: str
    created_at: datetime | None

    @classmethod
    def of(cls, message: MessageView) -> Message:
        return cls(
            id=message.id, direction=message.direction,
            body=message.body, purpose=message.purpose, status=message.status,
            created_at=message.created_at,
        )  # fmt: skip


class TimelineItem(_Out):
    at: datetime
    actor: str = Field(description="customer, parser, cli, api:TOKEN_NAME, system...")
    kind: str
    detail: dict[str, object]

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineItem:
        return cls(at=entry.at, actor=entry.actor, kind=entry.kind, detail=entry.detail)


class LeadWithHistory(Lead):
    calls: list[Call]
    messages: list[Message]
    timeline: list[TimelineItem]

    @classmethod
    def of_detail(cls, detail: LeadDetail) -> LeadWithHistory:
        return cls(
            **Lead.of(detail.lead).model_dump(),
            calls=[Call.of(call) for call in detail.calls],
            messages=[Message.of(message) for message in detail.messages],
            timeline=[TimelineItem.of(entry) for entry in detail.timeline],
        )


class LeadPatch(BaseModel):
    """What to change; a field left out stays, a field given as null is cleared."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    name: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    service: str | None = Field(None, max_length=128)
    zip: str | None = Field(None, max_length=16)
    urgency: str | None = Field(None, max_length=16)
    callback_start: datetime | None = None
    callback_end: datetime | None = None


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000, description="What to text the customer")


class ReplyQueued(_Out):
    status: Literal["queued"] = "queued"
    held_until: datetime | None = Field(
        description="Set when quiet hours hold the text: when it will go out"
    )


class ErrorDetail(_Out):
    status: int
    code: str = Field(description="unauthorized, not_found, invalid, refused, rate_limited...")
    message: str


class Error(_Out):
    error: ErrorDetail


#: Every schema the OpenAPI document lists.
SCHEMAS: tuple[type[BaseModel], ...] = (
    Lead, LeadPage, Call, Message, TimelineItem, LeadWithHistory, LeadPatch, Reply,
    ReplyQueued, ErrorDetail, Error,
)  # fmt: skip
