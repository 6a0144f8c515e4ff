"""Checking that a webhook came from Twilio (``X-Twilio-Signature``).

Twilio signs the URL it requested (scheme, host, path and the raw query string) followed by
every form field, sorted. Behind a TLS-terminating proxy the URL Starlette sees is the internal
one, so the URL is rebuilt from ``public_url`` (``ProviderContext.public_request_url``).

Two algorithms exist: HMAC-SHA1 with the account's Auth Token (the classic one), and, when a
Twilio Webhook Rule applies, HMAC-SHA256 announced by ``X-Twilio-Webhooks-Signature-Settings:
key=<SharedKey id>,algorithm=HMAC_SHA256`` and keyed by that SharedKey's secret.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from hub import ProviderContext, Refused
from hub_twilio.config import TwilioAccount

#: Twilio's largest form (an SMS with ten media items) is a few kilobytes.
MAX_BODY = 64 * 1024


def shared_key_id(settings_header: str | None) -> str | None:
    """The ``key=`` part of ``X-Twilio-Webhooks-Signature-Settings``."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "key" and value.strip():
            return value.strip()
    return None


class _Fields(dict[str, list[str]]):
    """A form's fields with every value of a repeated one, for ``RequestValidator``.

    The validator signs each value of a repeated field; it asks for them with ``getall()``
    (then ``getlist()``, catching the AttributeError). Starlette's ``FormData.getlist`` scans the
    whole form per field, so a webhook's 25 fields cost hundreds of comparisons and exceptions;
    this is one pass, and answers ``getall`` directly.
    """

    @classmethod
    def of(cls, form: FormData) -> _Fields:
        fields = cls()
        for name, value in form.multi_items():
            if not isinstance(value, str):
                raise Refused(400, "Twilio's webhook fields are text, not files")
            fields.setdefault(name, []).append(value)
        return fields

    def getall(self, name: str) -> list[str]:
        return self[name]


class WebhookVerifier:
    """Verifies the webhooks of one business's Twilio account."""

    def __init__(self, account: TwilioAccount, context: ProviderContext) -> None:
        self._context = context
        self._token = RequestValidator(account.auth_token.get_secret_value())
        self._shared = {
            key: RequestValidator(secret.get_secret_value())
            for key, secret in account.webhook_shared_keys.items()
        }

    def __repr__(self) -> str:
        return f"<WebhookVerifier for {self._context.business.slug!r}>"

    async def form(self, request: Request) -> FormData:
        """The request's form fields, once its signature checks out; else ``Refused(403)``."""
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            raise Refused(413, "webhook body too large")
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            raise Refused(415, "Twilio's voice and messaging webhooks are form-encoded")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise Refused(413, "webhook body too large")
        form = await request.form()
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise Refused(403, f"missing {SIGNATURE_HEADER} header: not a request from Twilio")
        settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
        validator = self._shared.get(shared_key_id(settings) or "", self._token)
        url = self._context.public_request_url(request)
        fields = _Fields.of(form)
        if not validator.validate(url, fields, signature, get_signature_algorithm(settings)):
            raise Refused(
                403,
                f"{SIGNATURE_HEADER} does not match: check the Auth Token, and that public_url "
                f"is the address Twilio calls (this request was checked as {url})",
            )
        return form
