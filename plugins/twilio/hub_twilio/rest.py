"""Twilio's REST API through the official SDK: sending a text and looking up a line type.

This is the one module that imports the SDK's HTTP stack (aiohttp and ``twilio.rest``, a fifth
of a second); the sender imports it when it starts, so ``hub check`` and ``hub simulate`` never
pay for it. Its aiohttp session must be created inside the running event loop, which ``start``
is. The SDK's own retries stay off, since a retried create can send a text twice: the hub's job
queue retries instead, durably.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from hub import SendResult
from hub_twilio.config import DEFAULT_API_BASE_URL, TwilioSenderConfig
from hub_twilio.errors import RATE_LIMIT_CODE, LookupFailed, recipient_issue

#: The SDK logs every request at INFO; the hub keeps it for WARNING and up unless told otherwise.
sdk_log = logging.getLogger("hub.plugins.twilio.sdk")


class HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK ships no types
    """The SDK's aiohttp client, sending credentials as a header, with a timeout that holds.

    The SDK hands aiohttp ``auth=BasicAuth(...)``, which aiohttp 3.14 deprecates (a warning on
    every request) and 4.0 removes; the header is what both send on the wire.

    The SDK also passes ``timeout=None`` on every request, and aiohttp reads an explicit
    ``None`` as "no timeout at all", overriding the session's: a Twilio that never answers
    would hold a send forever. Every request gets the client's own timeout instead.
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
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


class TwilioRest:
    """A started SDK client for one sender's account."""

    def __init__(self, config: TwilioSenderConfig) -> None:
        if sdk_log.level == logging.NOTSET:
            sdk_log.setLevel(logging.WARNING)
        self.http = HttpClient(pool_connections=False, logger=sdk_log, timeout=config.timeout)
        self.http.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=config.timeout)
        )
        self.client = Client(
            config.account_sid,
            config.auth_token.get_secret_value(),
            http_client=self.http,
            # Not empty: an empty mapping makes the SDK read TWILIO_EDGE/REGION from os.environ,
            # which would rewrite every host.
            environment={"HUB_TWILIO": "1"},
        )
        if config.api_base_url != DEFAULT_API_BASE_URL:
            self.client.api.base_url = config.api_base_url
            self.client.lookups.base_url = config.api_base_url

    async def close(self) -> None:
        await self.http.close()

    async def create_message(self, params: dict[str, Any]) -> SendResult | tuple[str, str]:
        """The new message's sid and status, or the ``SendResult`` of the error."""
        try:
            message = await self.client.messages.create_async(**params)
        except TwilioException as exc:
            return result_for_error(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return SendResult.retry(f"cannot reach Twilio: {type(exc).__name__}: {exc}")
        return str(message.sid), str(message.status or "queued")

    async def recent_messages(
        self, to: str, sender: str | None, limit: int
    ) -> list[Any] | SendResult:
        """The newest messages to ``to`` (from ``sender``, when it is a number), newest first;
        or the ``SendResult`` (a retry) of the error."""
        filters: dict[str, Any] = {"to": to, "limit": limit, "page_size": limit}
        if sender is not None:
            filters["from_"] = sender
        try:
            return list(await self.client.messages.list_async(**filters))
        except TwilioException as exc:
            failed = result_for_error(exc)
            return SendResult.retry(failed.error or "Twilio error", error_code=failed.error_code)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return SendResult.retry(f"cannot reach Twilio: {type(exc).__name__}: {exc}")

    async def line_type(self, phone: str) -> str:
        """Lookup's line type of ``phone`` (``unknown`` when it has none)."""
        try:
            found = await self.client.lookups.v2.phone_numbers(phone).fetch_async(
                fields="line_type_intelligence"
            )
        except (TwilioException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise LookupFailed(str(exc)) from exc
        intelligence = found.line_type_intelligence or {}
        line_type = intelligence.get("type") if isinstance(intelligence, dict) else None
        return str(line_type) if line_type else "unknown"


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
