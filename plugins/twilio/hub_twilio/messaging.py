"""``twilio`` SMS sender: texts out through Twilio's REST API; inbound texts and delivery
reports in through ``/sms`` and ``/sms-status``.

Sending uses the SDK's async client (``create_async``). Its aiohttp session must be created
inside the running event loop, so it is built in ``start()``; its own retries stay off, since a
retried create can send a text twice: the hub's job queue retries instead, durably.

Twilio's error codes that are about the person, not the message, become a ``RecipientIssue``:
21610 (they texted STOP to this sender) marks them opted out; 30006 / 21614 / 21635 (a landline
or a number that cannot take texts) tell the owner to call instead.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import aiohttp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

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
from hub_twilio.config import DEFAULT_API_BASE_URL, TwilioSenderConfig
from hub_twilio.signatures import WebhookVerifier
from hub_twilio.voice import optional, raw, required

OPTED_OUT_CODES = frozenset({21610})
CANNOT_RECEIVE_CODES = frozenset({30006, 21614, 21635})
#: Twilio's "too many requests" error code, sometimes sent with an HTTP status other than 429.
RATE_LIMIT_CODE = 20429

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

#: The SDK logs every request at INFO; the hub keeps it for WARNING and up unless told otherwise.
sdk_log = logging.getLogger("hub.plugins.twilio.sdk")


class HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK ships no types
    """The SDK's aiohttp client, sending credentials as a header.

    The SDK hands aiohttp ``auth=BasicAuth(...)``, which aiohttp 3.14 deprecates (a warning on
    every request) and 4.0 removes; the header is what both send on the wire.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def recipient_issue(code: int | str | None) -> RecipientIssue | None:
    try:
        number = int(code) if code is not None else None
    except ValueError:
        return None
    if number in OPTED_OUT_CODES:
        return RecipientIssue.OPTED_OUT
    if number in CANNOT_RECEIVE_CODES:
        return RecipientIssue.CANNOT_RECEIVE
    return None


def result_for_error(exc: TwilioException) -> SendResult:
    """What a Twilio API error means for this text (and its sender's next attempt)."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    message = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
    error = f"Twilio error {code or status}: {message}".strip()
    error_code = str(code or status or "") or None
    issue = recipient_issue(code)
    if issue is not None:
        return SendResult.failed(error, error_code=error_code, recipient_issue=issue)
    if not isinstance(status, int) or status == 429 or code == RATE_LIMIT_CODE or status >= 500:
        return SendResult.retry(error, error_code=error_code)
    return SendResult.failed(error, error_code=error_code)


class TwilioSender(SmsSender[TwilioSenderConfig]):
    name = "twilio"
    description = "Twilio Programmable Messaging: sends texts, takes replies and delivery reports"

    def __init__(self, config: TwilioSenderConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.verifier = WebhookVerifier(config, context)
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

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
        if sdk_log.level == logging.NOTSET:
            sdk_log.setLevel(logging.WARNING)
        http = HttpClient(pool_connections=False, logger=sdk_log)
        # The SDK passes no timeout per request; the session's is the one that applies.
        http.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.timeout)
        )
        client = Client(
            self.config.account_sid,
            self.config.auth_token.get_secret_value(),
            http_client=http,
            # Not empty: an empty mapping makes the SDK read TWILIO_EDGE/REGION from os.environ,
            # which would rewrite every host.
            environment={"HUB_TWILIO": "1"},
        )
        if self.config.api_base_url != DEFAULT_API_BASE_URL:
            client.api.base_url = self.config.api_base_url
            client.lookups.base_url = self.config.api_base_url
        self._http, self._client = http, client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the twilio sender was not started")
        return self._client

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
        try:
            message = await self.client.messages.create_async(**params)
        except TwilioException as exc:
            return result_for_error(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return SendResult.retry(f"cannot reach Twilio: {type(exc).__name__}: {exc}")
        status = STATUSES.get(str(message.status or "queued"), MessageStatus.QUEUED)
        return SendResult.sent(str(message.sid), message_status=status)

    async def line_type(self, phone: str) -> str | None:
        """``phone``'s line type, looked up once per ``line_type_max_age_days``; ``None`` when
        Lookup cannot say (the text is sent anyway: a lookup outage must not stop texts)."""
        max_age = timedelta(days=self.config.line_type_max_age_days)
        cached = await self.context.cached_line_type(phone, max_age)
        if cached is not None:
            return cached
        try:
            found = await self.client.lookups.v2.phone_numbers(phone).fetch_async(
                fields="line_type_intelligence"
            )
        except (TwilioException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.context.log.warning("line type lookup failed, texting anyway: %s", exc)
            return None
        intelligence = found.line_type_intelligence or {}
        line_type = intelligence.get("type") if isinstance(intelligence, dict) else None
        line_type = str(line_type) if line_type else "unknown"
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
        return Response(str(MessagingResponse()), media_type="application/xml")

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
