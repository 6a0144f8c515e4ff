"""``generic`` call source: one signed JSON webhook for PBXs, forwarders and anything else.

``POST /hooks/{business}/generic/call`` with a JSON body::

    {"id": "pbx-123", "from": "+15125550123", "to": "+15125550100",
     "outcome": "missed", "at": "2026-11-26T14:03:00-06:00"}

``outcome`` is ``missed``, ``answered``, ``voicemail`` or ``after_hours``; ``at`` is optional
(default: when the hub received it). ``"direction": "outbound"`` reports the business calling a
customer back (``from`` is then the business's number): it stops a text-back still waiting.

The request carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the
secret>``, as GitHub-style webhooks do.
Unsigned → 401, wrong signature → 403; nothing is stored either way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import Field, SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.exceptions import Refused
from hub.hookspecs import hookimpl
from hub.providers import CallSource, ProviderConfig
from hub.types import CallEvent, CallOutcome

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
        return [Route("/call", self.call, methods=["POST"])]

    async def call(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise Refused(413, "body too large")
        self.verify(request.headers.get(SIGNATURE_HEADER), body)
        event = self.parse(body)
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

    def verify(self, header: str | None, body: bytes) -> None:
        if not header:
            raise Refused(401, f"missing {SIGNATURE_HEADER} header")
        expected = sign(self.config.secret.get_secret_value(), body)
        if not hmac.compare_digest(header.strip().encode(), expected.encode()):
            raise Refused(403, f"{SIGNATURE_HEADER} does not match the body")

    @staticmethod
    def parse(body: bytes) -> CallEvent:
        try:
            data = json.loads(body)
        except ValueError:
            raise Refused(400, "body is not JSON") from None
        if not isinstance(data, dict):
            raise Refused(400, "body must be a JSON object")
        call_id, called, caller = data.get("id"), data.get("to"), data.get("from")
        if not isinstance(call_id, str) or not call_id or len(call_id) > 128:
            raise Refused(400, "`id` must be a non-empty string of at most 128 characters")
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
        at = None
        if data.get("at") is not None:
            try:
                at = datetime.fromisoformat(str(data["at"]))
            except ValueError:
                raise Refused(400, "`at` must be an ISO-8601 time") from None
            if at.tzinfo is None:
                raise Refused(400, "`at` must include a UTC offset")
        return CallEvent(
            call_id=call_id,
            caller=caller,
            called=called,
            outcome=outcome,
            at=at,
            outbound=direction == "outbound",
            raw=data,
        )


@hookimpl
def hub_register_call_sources(register: Callable[[type[CallSource]], None]) -> None:
    register(GenericCallSource)
