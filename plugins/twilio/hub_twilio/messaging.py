"""``twilio`` SMS sender: texts out through Twilio's REST API; inbound texts and delivery
reports in through ``/sms`` and ``/sms-status``.

Sending goes through the SDK's async client (``hub_twilio.rest``), imported when the sender
starts. Twilio's error codes that are about the person, not the message, become a
``RecipientIssue`` (``hub_twilio.errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hub import (
    DeliveryReport,
    InboundSms,
    KeywordIntent,
    MessageStatus,
    OutboundSms,
    ProviderContext,
    RecipientIssue,
    SendResult,
    SmsSender,
)
from hub_twilio.config import TwilioSenderConfig
from hub_twilio.errors import LookupFailed, recipient_issue
from hub_twilio.signatures import WebhookVerifier
from hub_twilio.voice import optional, raw, required

if TYPE_CHECKING:
    from hub_twilio.rest import TwilioRest

#: Twilio's ``MessageStatus`` → the hub's; absent ones (``receiving``...) are ignored.
STATUSES = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "partially_delivered": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}
KEYWORDS = {"STOP": KeywordIntent.STOP, "START": KeywordIntent.START, "HELP": KeywordIntent.HELP}

#: How many of the newest messages to a number ``find_sent`` looks through, and how far
#: Twilio's clock may be behind the hub's.
FIND_SENT_LIMIT = 20
CLOCK_SKEW = timedelta(minutes=1)

#: An empty TwiML answer: the hub replies to texts later, through the API.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


class TwilioSender(SmsSender[TwilioSenderConfig]):
    name = "twilio"
    description = "Twilio Programmable Messaging: sends texts, takes replies and delivery reports"

    def __init__(self, config: TwilioSenderConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.verifier = WebhookVerifier(config, context)
        self._rest: TwilioRest | None = None

    def problems(self) -> list[str]:
        business = self.context.business
        sender = self.config.from_
        if sender is not None and sender not in business.numbers:
            return [
                f"from {sender} is not one of the business's numbers, so replies to it would be "
                "refused: add it to numbers"
            ]
        return []

    async def start(self) -> None:
        from hub_twilio.rest import TwilioRest  # the SDK's HTTP stack: only a running hub needs it

        self._rest = TwilioRest(self.config)

    async def close(self) -> None:
        if self._rest is not None:
            await self._rest.close()
        self._rest = None

    @property
    def rest(self) -> TwilioRest:
        if self._rest is None:
            raise RuntimeError("the twilio sender was not started")
        return self._rest

    # -- sending ----------------------------------------------------------------------------------

    async def send(self, sms: OutboundSms) -> SendResult:
        if self.config.line_type_check:
            line_type = await self.line_type(sms.to)
            if line_type in self.config.skip_line_types:
                return SendResult.failed(
                    f"{sms.to} is a {line_type} number, which cannot take texts",
                    error_code=f"line_type:{line_type}"[:32],
                    recipient_issue=RecipientIssue.CANNOT_RECEIVE,
                )
        params: dict[str, Any] = {
            "to": sms.to,
            "body": sms.body,
            "status_callback": self.context.webhook_url("sms-status"),
        }
        if self.config.messaging_service_sid:
            params["messaging_service_sid"] = self.config.messaging_service_sid
        else:
            params["from_"] = self.config.from_
        created = await self.rest.create_message(params)
        if isinstance(created, SendResult):
            return created
        sid, status = created
        return SendResult.sent(sid, message_status=STATUSES.get(status, MessageStatus.QUEUED))

    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        """Twilio keeps no reference of ours on a message (it has no such field), so an
        earlier attempt is found by what it was: the newest messages to that number from
        this sender (or through this Messaging Service), with the same body, created since
        the attempt (less a minute of clock skew)."""
        service = self.config.messaging_service_sid
        found = await self.rest.recent_messages(
            sms.to, None if service else self.config.from_, FIND_SENT_LIMIT
        )
        if isinstance(found, SendResult):
            return found
        earliest = since - CLOCK_SKEW
        for message in found:
            created = message.date_created
            if service and message.messaging_service_sid != service:
                continue
            if message.body == sms.body and (created is None or created >= earliest):
                status = STATUSES.get(str(message.status), MessageStatus.QUEUED)
                return SendResult.sent(str(message.sid), message_status=status)
        return None

    async def line_type(self, phone: str) -> str | None:
        """``phone``'s line type, looked up once per ``line_type_max_age_days``; ``None`` when
        Lookup cannot say (the text is sent anyway: a lookup outage must not stop texts)."""
        max_age = timedelta(days=self.config.line_type_max_age_days)
        cached = await self.context.cached_line_type(phone, max_age)
        if cached is not None:
            return cached
        try:
            line_type = await self.rest.line_type(phone)
        except LookupFailed as exc:
            self.context.log.warning("line type lookup failed, texting anyway: %s", exc)
            return None
        await self.context.remember_line_type(phone, line_type)
        return line_type

    # -- webhooks ---------------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/sms", self.inbound, methods=["POST"]),
            Route("/sms-status", self.status, methods=["POST"]),
        ]

    async def inbound(self, request: Request) -> Response:
        """A text to one of the business's numbers. Answers go out later, as jobs."""
        form = await self.verifier.form(request)
        opt_out_type = (optional(form, "OptOutType") or "").upper()
        await self.context.receive_sms(
            InboundSms(
                message_id=required(form, "MessageSid"),
                sender=required(form, "From"),
                recipient=required(form, "To"),
                body=optional(form, "Body") or "",
                provider_keyword=KEYWORDS.get(opt_out_type),
                raw=raw(form),
            )
        )
        return Response(EMPTY_TWIML, media_type="application/xml")

    async def status(self, request: Request) -> Response:
        """A status callback for a text the hub sent."""
        form = await self.verifier.form(request)
        status = STATUSES.get(optional(form, "MessageStatus") or optional(form, "SmsStatus") or "")
        if status is not None:
            error_code = optional(form, "ErrorCode")
            await self.context.receive_delivery_report(
                DeliveryReport(
                    message_id=required(form, "MessageSid"),
                    status=status,
                    error_code=error_code,
                    recipient_issue=recipient_issue(error_code),
                    raw=raw(form),
                )
            )
        return Response(status_code=204)
