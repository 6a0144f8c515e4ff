"""The values that cross the line between the core and plugins.

Plugins build these from a provider's webhooks (``CallEvent``, ``InboundSms``, ``DeliveryReport``)
and return them from their runtime methods (``SendResult``, ``DeliveryResult``, ``ParsedReply``).
They carry no provider names: a Twilio ``CallSid`` and a Vonage ``uuid`` are both a ``call_id``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.views import LeadView


class CallOutcome(enum.StrEnum):
    """What happened to a call, as far as the call source can tell."""

    ANSWERED = "answered"
    MISSED = "missed"
    #: Missed, and the caller left a voicemail.
    VOICEMAIL = "voicemail"
    #: The source already decided the business was closed (e.g. it did not ring the owner).
    AFTER_HOURS = "after_hours"


class MessageStatus(enum.StrEnum):
    """Delivery status of a text. Outbound statuses only move forward (see ``rank``)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    RECEIVED = "received"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @property
    def is_final(self) -> bool:
        return self.rank >= 3


_STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.RECEIVED: 3,
}


class RecipientIssue(enum.StrEnum):
    """Something a provider told us about the person, not about one message."""

    #: The recipient opted out at the provider (e.g. they texted STOP to the carrier).
    OPTED_OUT = "opted_out"
    #: The number cannot receive texts (landline, unreachable carrier): the owner should call.
    CANNOT_RECEIVE = "cannot_receive"


class KeywordIntent(enum.StrEnum):
    """A compliance keyword a provider already matched and answered for us."""

    STOP = "stop"
    START = "start"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One call, normalized by a call source.

    ``caller`` is passed through as received (the core decides what is anonymous or invalid);
    ``outcome`` is what the source knows: the core classifies missed calls into after-hours
    by the business's opening hours in its timezone. ``outbound`` marks the business calling a
    customer (``caller`` is then the business's number and ``called`` the customer): a call
    back, which stops a text-back still waiting.
    """

    call_id: str
    caller: str | None
    called: str
    outcome: CallOutcome
    at: datetime | None = None
    forwarded_from: str | None = None
    recording_url: str | None = None
    outbound: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a customer sent to one of the business's numbers."""

    message_id: str
    sender: str
    recipient: str
    body: str
    at: datetime | None = None
    #: Set when the provider already matched (and answered) a compliance keyword.
    provider_keyword: KeywordIntent | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class CallReceipt:
    """What the hub made of a call event (``context.receive_call``'s answer)."""

    #: ``scheduled`` (a text-back is queued), ``recorded`` (stored, no text: see ``skipped``),
    #: or ``duplicate`` (this call was already received; nothing changed).
    status: str
    outcome: str
    after_hours: bool = False
    skipped: str | None = None
    call_id: int | None = None
    lead_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's status callback for a text the hub sent."""

    message_id: str
    status: MessageStatus
    error_code: str | None = None
    recipient_issue: RecipientIssue | None = None
    at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """A text for an SMS sender to send.

    ``reference`` is the hub's name for this text: unique per text and the same on every retry
    of it, so pass it to the provider as a client reference where it has one. ``sender_number``
    is the business number the customer called; senders configured with their own number or
    service may ignore it.
    """

    reference: str
    to: str
    body: str
    sender_number: str | None = None


class SendStatus(enum.StrEnum):
    SENT = "sent"
    #: Not sent, try again later (rate limit, provider down, network error).
    RETRY = "retry"
    #: Not sent and never will be with this sender.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What an SMS sender did with one ``OutboundSms``. Never a bare boolean."""

    status: SendStatus
    provider_id: str | None = None
    message_status: MessageStatus = MessageStatus.SENT
    error: str | None = None
    error_code: str | None = None
    recipient_issue: RecipientIssue | None = None
    #: Seconds the provider asked us to wait before retrying, if it said.
    retry_after: float | None = None

    @classmethod
    def sent(
        cls, provider_id: str, message_status: MessageStatus = MessageStatus.SENT
    ) -> SendResult:
        return cls(SendStatus.SENT, provider_id=provider_id, message_status=message_status)

    @classmethod
    def retry(
        cls, error: str, *, error_code: str | None = None, retry_after: float | None = None
    ) -> SendResult:
        return cls(SendStatus.RETRY, error=error, error_code=error_code, retry_after=retry_after)

    @classmethod
    def failed(
        cls,
        error: str,
        *,
        error_code: str | None = None,
        recipient_issue: RecipientIssue | None = None,
    ) -> SendResult:
        return cls(
            SendStatus.FAILED, error=error, error_code=error_code, recipient_issue=recipient_issue
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """Something the owner should hear about, already worded by the core's templates.

    Sinks that render their own bodies (HTML email, a CRM record) use ``lead`` and ``kind``.
    """

    kind: str
    lead: LeadView
    subject: str
    text: str
    url: str | None = None
    urgent: bool = False


class DeliveryStatus(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What a sink did with one ``Notification``."""

    status: DeliveryStatus
    reference: str | None = None
    error: str | None = None
    retry_after: float | None = None

    @classmethod
    def delivered(cls, reference: str | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.DELIVERED, reference=reference)

    @classmethod
    def retry(cls, error: str, *, retry_after: float | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.RETRY, error=error, retry_after=retry_after)

    @classmethod
    def failed(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.FAILED, error=error)


@dataclass(frozen=True, slots=True)
class CallbackWindow:
    start: datetime
    end: datetime | None = None


class Intent(enum.StrEnum):
    REPLY = "reply"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class ParsedReply:
    """Fields a reply parser found in one customer text; ``None`` means "not found here"."""

    intent: Intent | None = None
    service: str | None = None
    zip: str | None = None
    urgency: str | None = None
    callback: CallbackWindow | None = None
    name: str | None = None

    FIELDS = ("intent", "service", "zip", "urgency", "callback", "name")

    def merged_over(self, earlier: ParsedReply) -> ParsedReply:
        """Fill what ``earlier`` (from a parser earlier in the chain) left empty."""
        values = {
            name: getattr(earlier, name)
            if getattr(earlier, name) is not None
            else getattr(self, name)
            for name in self.FIELDS
        }
        return ParsedReply(**values)


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a reply parser may know besides the text."""

    business: str
    timezone: str
    #: When the text arrived, in the business's timezone.
    received_at: datetime
    #: ``{"service name": ["synonym", ...]}`` from hub.yaml.
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: What the parsers before this one in the business's chain found in the same text (empty
    #: for the first). The chain keeps their fields and takes only what this parser adds, so a
    #: costly parser (a language model) can skip a text with nothing left to find.
    found: ParsedReply = field(default_factory=ParsedReply)
