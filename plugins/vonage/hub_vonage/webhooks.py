"""What every Vonage webhook handler needs: its parameters, its signature check, number formats.

Vonage sends webhooks as a query string (GET), a form (POST) or JSON (POST), depending on the
API and on dashboard settings; ``read_params`` takes all three and keeps the raw body, which the
JWT's ``payload_hash`` covers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from hub import Refused
from hub_vonage.signatures import (
    URL_SIGNATURE,
    SignatureError,
    url_signature,
    verify_jwt,
    verify_sms_signature,
    verify_url_signature,
)

if TYPE_CHECKING:
    from hub import ProviderContext
    from hub_vonage.config import VonageAccount

MAX_BODY = 256 * 1024
_DIGITS = re.compile(r"^[1-9]\d{6,14}$")


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook request, read."""

    params: dict[str, Any]
    #: The raw body of a POST (what ``payload_hash`` covers); ``None`` for a GET.
    body: bytes | None
    #: ``query``, ``form`` or ``json``.
    shape: str
    authorization: str | None


class BadWebhook(Exception):
    """The request is not a webhook this route understands (answered 204: retrying won't help)."""


async def read(request: Request) -> Webhook:
    """Read a webhook's parameters from its query (GET), form or JSON body (POST)."""
    authorization = request.headers.get("authorization")
    if request.method == "GET":
        return Webhook(dict(request.query_params), None, "query", authorization)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(413, "body too large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or (not content_type and body[:1] in (b"{", b"[")):
        try:
            data = json.loads(body) if body else {}
        except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
            raise BadWebhook("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadWebhook("the JSON body is not an object")
        return Webhook(data, body, "json", authorization)
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.form()
        # Vonage never repeats a key; the last value wins as in a dict.
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        return Webhook(params, body, "form", authorization)
    if not body:  # a POST with everything in the query string
        return Webhook(dict(request.query_params), body, "query", authorization)
    raise BadWebhook(f"unsupported content type {content_type or 'none'!r}")


class Verifier:
    """Checks webhook signatures with one provider's settings; a no-op without a secret."""

    def __init__(self, config: VonageAccount, context: ProviderContext) -> None:
        self.config = config
        self.context = context

    @property
    def enabled(self) -> bool:
        return self.config.signature_secret is not None

    def _now(self) -> float:
        return float(self.context.now().timestamp())

    async def jwt(self, webhook: Webhook, *, needs_body: bool = True) -> None:
        """Voice and Messages API webhooks: a Bearer JWT over the raw body, used once.

        The JWT signs the body only: a webhook without one (a GET) carries no signed data, so
        it is refused unless the route takes nothing from Vonage (``needs_body=False``). Its
        ``jti`` is remembered, so a captured token cannot be posted again while it is fresh.
        """
        secret = self.config.secret
        if secret is None:
            return
        if needs_body and not webhook.body:
            raise Refused(
                403,
                "a webhook whose data is not in its body is not signed: set the URL's HTTP "
                "method to POST in the Vonage application",
            )
        try:
            claims = verify_jwt(
                webhook.authorization,
                webhook.body,
                secret,
                now=self._now(),
                max_age=self.config.signature_max_age,
                skew=self.config.clock_skew,
                api_key=self.config.api_key,
                application_id=self.config.application_id,
            )
        except SignatureError as exc:
            raise Refused(exc.status, str(exc)) from None
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 128:
            raise Refused(403, "the JWT has no usable `jti`")
        # A mark is permanent: longer than any token lives, which is what a replay check needs.
        if not await self.context.mark(f"jwt:{jti}"):
            raise Refused(403, "this JWT was already used: a replay")

    def sign_url(self, route: str, query: Mapping[str, str]) -> dict[str, str]:
        """``query`` with the hub's signature, for a URL of ``route`` handed to Vonage."""
        secret = self.config.secret
        signed = {key: value for key, value in query.items() if key != URL_SIGNATURE}
        if secret is not None:
            signed[URL_SIGNATURE] = url_signature(secret, route, signed)
        return signed

    def url_query(self, request: Request, route: str) -> dict[str, str]:
        """The query of a URL the hub made (``sign_url``), checked; without a secret, as is."""
        query = dict(request.query_params)
        secret = self.config.secret
        if secret is not None:
            try:
                verify_url_signature(secret, route, query)
            except SignatureError as exc:
                raise Refused(exc.status, str(exc)) from None
        query.pop(URL_SIGNATURE, None)
        return query

    def sig(self, webhook: Webhook) -> None:
        """SMS API webhooks: the ``sig`` parameter."""
        secret = self.config.secret
        if secret is None:
            return
        try:
            verify_sms_signature(
                webhook.params,
                secret,
                self.config.signature_method,
                now=self._now(),
                max_age=self.config.signature_max_age,
                skew=self.config.clock_skew,
            )
        except SignatureError as exc:
            raise Refused(exc.status, str(exc)) from None


# -- numbers --------------------------------------------------------------------------------------


def to_core(raw: Any) -> str | None:
    """A Vonage number (E.164 without '+') as the core's ``+E164``; anything else unchanged
    (the core decides what a withheld or odd caller id is)."""
    if raw is None:
        return None
    if isinstance(raw, Mapping):  # Messages API v0.1: {"type": "sms", "number": "..."}
        raw = raw.get("number")
        if raw is None:
            return None
    text = str(raw).strip()
    return "+" + text if _DIGITS.match(text) else text


def to_vonage(number: str) -> str:
    """``+15125550123`` → ``15125550123``: Vonage's APIs reject the '+'."""
    return re.sub(r"[^\d]", "", number) if number.strip().startswith("+") else number.strip()


# -- times ----------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (Voice, Messages) or ``YYYY-MM-DD HH:MM:SS`` UTC (SMS API) → aware datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def without_signature(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters to keep for the record: not ``sig``/``nonce`` (useless once checked)."""
    return {key: value for key, value in params.items() if key not in {"sig", "nonce"}}


def text_of(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""
