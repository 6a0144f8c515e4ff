"""``generic`` call source: one signed JSON webhook for PBXs, forwarders and anything else.

``POST /hooks/{business}/generic/call`` with a JSON body::

    {"id": "pbx-123", "from": "+15125550123", "to": "+15125550100",
     "outcome": "missed", "at": "2026-11-26T14:03:00-06:00"}

``outcome`` is ``missed``, ``answered``, ``voicemail`` or ``after_hours``; ``at`` is optional
(default: when the hub received it). ``"direction": "outbound"`` reports the business calling a
customer back (``from`` is then the business's number): it stops a text-back still waiting.

The same source takes the rest of a conversation, so any PBX or SMS gateway that can post JSON
(and ``hub simulate``) can drive it whole:

- ``POST /hooks/{business}/generic/sms``, a customer's text::

    {"id": "gw-9", "from": "+15125550123", "to": "+15125550100", "text": "...", "at": "..."}

- ``POST /hooks/{business}/generic/sms-status``, a delivery report for a text the business's
  SMS sender sent (``message_id`` is the id that sender returned)::

    {"id": "gw-10", "message_id": "console-...", "status": "delivered", "error_code": null}

Every request carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the
secret>``, as GitHub-style webhooks do.
Unsigned → 401, wrong signature → 403, malformed → 400, over 64 KiB → 413; nothing is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import Field, SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.exceptions import Refused
from hub.hookspecs import hookimpl
from hub.providers import CallSource, ProviderConfig
from hub.types import CallEvent, CallOutcome, DeliveryReport, InboundSms, MessageStatus

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY = 64 * 1024


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class GenericConfig(ProviderConfig):
    secret: SecretStr = Field(
        description="Shared secret for X-Hub-Signature-256 (HMAC-SHA256 of the raw body)",
        min_length=8,
    )


class GenericCallSource(CallSource[GenericConfig]):
    name = "generic"
    description = "Signed JSON call webhook for PBXs, forwarders and other systems"

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/call", self.call, methods=["POST"]),
            Route("/sms", self.sms, methods=["POST"]),
            Route("/sms-status", self.sms_status, methods=["POST"]),
        ]

    async def signed_body(self, request: Request) -> bytes:
        """The raw body, once its size and signature are checked."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise Refused(413, f"body larger than {MAX_BODY} bytes")
        body = b""
        async for chunk in request.stream():  # stop reading at the limit, whatever was declared
            body += chunk
            if len(body) > MAX_BODY:
                raise Refused(413, f"body larger than {MAX_BODY} bytes")
        self.verify(request.headers.get(SIGNATURE_HEADER), body)
        return body

    async def call(self, request: Request) -> Response:
        event = self.parse(await self.signed_body(request))
        receipt = await self.context.receive_call(event)
        return JSONResponse(
            {
                "status": receipt.status,
                "outcome": receipt.outcome,
                "after_hours": receipt.after_hours,
                "skipped": receipt.skipped,
                "lead_id": receipt.lead_id,
            }
        )

    async def sms(self, request: Request) -> Response:
        """A customer's text, relayed by a gateway: it joins the caller's conversation."""
        await self.context.receive_sms(self.parse_sms(await self.signed_body(request)))
        return JSONResponse({"status": "received"})

    async def sms_status(self, request: Request) -> Response:
        """A delivery report for a text the business sent."""
        await self.context.receive_delivery_report(
            self.parse_status(await self.signed_body(request))
        )
        return JSONResponse({"status": "received"})

    def verify(self, header: str | None, body: bytes) -> None:
        if not header:
            raise Refused(401, f"missing {SIGNATURE_HEADER} header")
        expected = sign(self.config.secret.get_secret_value(), body)
        if not hmac.compare_digest(header.strip().encode(), expected.encode()):
            raise Refused(403, f"{SIGNATURE_HEADER} does not match the body")

    @staticmethod
    def parse(body: bytes) -> CallEvent:
        data = _json_object(body)
        call_id, called, caller = _id(data, "id"), data.get("to"), data.get("from")
        if not isinstance(called, str) or not called:
            raise Refused(400, "`to` must be the number that was called")
        if caller is not None and not isinstance(caller, str):
            raise Refused(400, "`from` must be a string or null")
        try:
            outcome = CallOutcome(data.get("outcome", "missed"))
        except ValueError:
            choices = ", ".join(o.value for o in CallOutcome)
            raise Refused(400, f"`outcome` must be one of {choices}") from None
        direction = data.get("direction", "inbound")
        if direction not in {"inbound", "outbound"}:
            raise Refused(400, "`direction` must be inbound or outbound")
        return CallEvent(
            call_id=call_id,
            caller=caller,
            called=called,
            outcome=outcome,
            at=_at(data),
            outbound=direction == "outbound",
            raw=data,
        )

    @staticmethod
    def parse_sms(body: bytes) -> InboundSms:
        data = _json_object(body)
        message_id, sender, recipient, text = (
            _id(data, "id"),
            data.get("from"),
            data.get("to"),
            data.get("text"),
        )
        if not isinstance(sender, str) or not sender:
            raise Refused(400, "`from` must be the number that sent the text")
        if not isinstance(recipient, str) or not recipient:
            raise Refused(400, "`to` must be the business's number that was texted")
        if not isinstance(text, str):
            raise Refused(400, "`text` must be a string")
        return InboundSms(message_id, sender, recipient, text, at=_at(data), raw=data)

    @staticmethod
    def parse_status(body: bytes) -> DeliveryReport:
        data = _json_object(body)
        _id(data, "id")
        message_id = _id(data, "message_id")
        reported = {s.value for s in MessageStatus} - {"received"}
        status = data.get("status")
        if status not in reported:
            raise Refused(400, f"`status` must be one of {', '.join(sorted(reported))}")
        error_code = data.get("error_code")
        if error_code is not None and not isinstance(error_code, str | int):
            raise Refused(400, "`error_code` must be a string, a number or null")
        return DeliveryReport(
            message_id,
            MessageStatus(status),
            str(error_code)[:32] if error_code is not None else None,
            at=_at(data),
            raw=data,
        )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        raise Refused(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "body must be a JSON object")
    return data


def _id(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 128:
        raise Refused(400, f"`{key}` must be a non-empty string of at most 128 characters")
    return value


def _at(data: dict[str, Any]) -> datetime | None:
    if data.get("at") is None:
        return None
    try:
        at = datetime.fromisoformat(str(data["at"]))
    except ValueError:
        raise Refused(400, "`at` must be an ISO-8601 time") from None
    if at.tzinfo is None:
        raise Refused(400, "`at` must include a UTC offset")
    return at


@hookimpl
def hub_register_call_sources(register: Callable[[type[CallSource]], None]) -> None:
    register(GenericCallSource)
