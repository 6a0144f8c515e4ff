"""What a ``webhook`` selection in hub.yaml may say."""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, SecretStr, field_validator

import hub

PREFIX = "whsec_"


class WebhookConfig(hub.ProviderConfig):
    url: str = Field(description="Where each event is POSTed (https://...)")
    secret: SecretStr = Field(
        description=(
            "Signing secret: whsec_ followed by base64 of 24 to 64 random bytes, as the receiver"
            " shows it; write {$env: WEBHOOK_SECRET}"
        )
    )
    timeout: float = Field(10.0, gt=0, le=60, description="Seconds to wait for the answer")
    allow_private: bool = Field(
        False,
        description=(
            "Allow a URL on a private, loopback or link-local address (your own network)."
            " Off, such targets are refused after DNS resolution"
        ),
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("secret")
    @classmethod
    def _whsec(cls, secret: SecretStr) -> SecretStr:
        key_bytes(secret)  # the messages below never quote the secret
        return secret


def key_bytes(secret: SecretStr) -> bytes:
    """The HMAC key: the base64 after ``whsec_``, decoded."""
    value = secret.get_secret_value()
    if not value.startswith(PREFIX):
        raise ValueError(f"must start with {PREFIX} (followed by base64)")
    try:
        key = base64.b64decode(value[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the part after {PREFIX} must be base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"must hold 24 to 64 bytes after {PREFIX}, not {len(key)}")
    return key
