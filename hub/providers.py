"""Base classes for the four kinds of provider a plugin can register.

A provider class names itself (``name``), declares a typed config model (``Config``) and
implements its kind's one async runtime method. The hub builds one instance per selection in
``hub.yaml``: a business using Twilio for calls and texts has a ``TwilioCallSource`` and a
``TwilioSender``, each with its own validated config.

Blocking SDKs must run off the event loop: use ``await asyncio.to_thread(...)`` inside the async
method.
"""

from __future__ import annotations

import abc
import enum
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict
from starlette.routing import BaseRoute

from hub.types import (
    CallEvent,
    DeliveryReport,
    DeliveryResult,
    InboundSms,
    Notification,
    OutboundSms,
    ParseContext,
    ParsedReply,
    SendResult,
)

if TYPE_CHECKING:
    from starlette.requests import Request

    from hub.views import CallReceipt


class Kind(enum.StrEnum):
    CALL_SOURCE = "call_source"
    SMS_SENDER = "sms_sender"
    REPLY_PARSER = "reply_parser"
    SINK = "sink"


class ProviderConfig(BaseModel):
    """Base for provider config models: unknown keys are errors, secrets are ``SecretStr``.

    Give every field a ``description``: ``hub schema`` shows it in editors.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderContext:
    """What a provider instance may use of the hub, bound to its business.

    This is the plugin-facing API: the flow entry points, URLs under ``public_url``, a logger.
    """

    def __init__(self, hub: Any, business: Any, provider_name: str) -> None:
        self.hub = hub
        self.business = business
        self.provider_name = provider_name
        self.log = logging.getLogger(f"hub.plugins.{provider_name}")

    def webhook_url(self, path: str = "") -> str:
        """The public URL providers should call for ``path`` under this provider's routes."""
        base = self.hub.config.public_url.rstrip("/")
        return f"{base}/hooks/{self.business.slug}/{self.provider_name}/{path.lstrip('/')}"

    def public_request_url(self, request: Request) -> str:
        """The URL a provider requested, as seen from outside any TLS-terminating proxy.

        Signatures (Twilio's, for one) are computed over the URL the provider called; behind a
        proxy ``request.url`` is the internal one. This rebuilds it from ``public_url``, the raw
        path and the raw, un-re-encoded query string.
        """
        base = self.hub.config.public_url.rstrip("/")
        path = request.scope.get("hub.route_path") or request.scope["path"]
        query = request.scope.get("query_string", b"").decode("latin-1")
        return f"{base}{path}?{query}" if query else f"{base}{path}"

    async def mark(self, key: str) -> bool:
        """Remember ``key`` for this plugin, permanently; ``True`` the first time only.

        For once-only decisions across webhooks (an owner accepted a screened call, say): the
        mark is a unique row, so concurrent webhooks agree on who was first.
        """
        from tortoise.exceptions import IntegrityError

        from hub.models import InboxEvent

        try:
            await InboxEvent.create(provider=self.provider_name, event_key=f"mark:{key}"[:255])
        except IntegrityError:
            return False
        return True

    async def is_marked(self, key: str) -> bool:
        from hub.models import InboxEvent

        return await InboxEvent.filter(
            provider=self.provider_name, event_key=f"mark:{key}"[:255]
        ).exists()

    async def cached_line_type(self, phone: str, max_age: timedelta) -> str | None:
        """A line type this business's sender looked up for ``phone`` within ``max_age``."""
        from hub.models import Contact

        contact = await Contact.get_or_none(business=self.business.slug, phone=phone)
        if contact is None or contact.line_type is None or contact.line_type_checked_at is None:
            return None
        if contact.line_type_checked_at < self.hub.clock.now() - max_age:
            return None
        return contact.line_type

    async def remember_line_type(self, phone: str, line_type: str) -> None:
        from hub.models import Contact

        await Contact.filter(business=self.business.slug, phone=phone).update(
            line_type=line_type[:32], line_type_checked_at=self.hub.clock.now()
        )

    async def attach_recording(self, call_id: str, recording_url: str) -> bool:
        """Keep a voicemail's URL on a call this source already reported.

        A recording can arrive after the webhook that decided the call (the caller hangs up
        mid-message, and the call's status callback beats the recording's), and a second
        ``receive_call`` changes nothing. ``False`` if the call is unknown or has a recording.
        """
        from hub.models import Call

        updated = await Call.filter(
            business=self.business.slug,
            provider=self.provider_name,
            provider_call_id=call_id,
            recording_url__isnull=True,
        ).update(recording_url=recording_url[:512])
        return bool(updated)

    async def receive_call(self, event: CallEvent) -> CallReceipt:
        receipt: CallReceipt = await self.hub.receive_call(self.business, self.provider_name, event)
        return receipt

    async def receive_sms(self, sms: InboundSms) -> None:
        await self.hub.receive_sms(self.business, self.provider_name, sms)

    async def receive_delivery_report(self, report: DeliveryReport) -> None:
        await self.hub.receive_delivery_report(self.business, self.provider_name, report)


class Provider:
    """Common shape of every provider class."""

    kind: ClassVar[Kind]
    #: The name ``hub.yaml`` selects it by (``use: NAME``), also its URL segment.
    name: ClassVar[str]
    #: One line for ``hub plugins``.
    description: ClassVar[str] = ""
    Config: ClassVar[type[ProviderConfig]] = ProviderConfig

    def __init__(self, config: Any, context: ProviderContext) -> None:
        self.config = config
        self.context = context

    async def start(self) -> None:
        """Open clients. Runs inside the event loop, after the database is ready."""

    async def close(self) -> None:
        """Release what ``start`` opened."""

    def problems(self) -> list[str]:
        """Setup problems ``hub check`` should report that the config model alone cannot see
        (they depend on the business, say). Empty when all is well."""
        return []

    def routes(self) -> Sequence[BaseRoute]:
        """Webhook routes, mounted under ``/hooks/{business}/{name}/``.

        A handler may raise ``hub.Refused`` to answer with a plain error status.
        """
        return ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} for {self.context.business.slug!r}>"


class CallSource(Provider):
    """Turns a provider's voice webhooks into ``CallEvent``\\ s via ``context.receive_call``.

    Call sources have no runtime method the hub calls: they are driven by their routes.
    """

    kind = Kind.CALL_SOURCE


class SmsSender(Provider):
    """Sends texts; its routes take inbound texts (``context.receive_sms``) and delivery reports
    (``context.receive_delivery_report``)."""

    kind = Kind.SMS_SENDER

    @abc.abstractmethod
    async def send(self, sms: OutboundSms) -> SendResult:
        """Send one text. Return ``SendResult.retry`` for anything worth trying again
        (rate limits, 5xx, network errors) and ``SendResult.failed`` otherwise. Do not retry
        inside: the hub's job queue retries with backoff and survives restarts."""


class ReplyParser(Provider):
    """Pulls lead fields out of one customer text."""

    kind = Kind.REPLY_PARSER

    @abc.abstractmethod
    async def parse(self, text: str, context: ParseContext) -> ParsedReply:
        """Return what this text says; leave a field ``None`` when it does not say it."""


class Sink(Provider):
    """Tells the owner about a lead, or pushes it somewhere."""

    kind = Kind.SINK

    @abc.abstractmethod
    async def deliver(self, notification: Notification) -> DeliveryResult:
        """Deliver one notification. Return ``DeliveryResult.retry`` for transient failures."""


KIND_BASES: dict[Kind, type[Provider]] = {
    Kind.CALL_SOURCE: CallSource,
    Kind.SMS_SENDER: SmsSender,
    Kind.REPLY_PARSER: ReplyParser,
    Kind.SINK: Sink,
}
