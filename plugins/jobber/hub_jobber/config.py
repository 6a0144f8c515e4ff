"""What a ``use: jobber`` selection in hub.yaml may say.

The client secret and the encryption key are secrets (``{$env: ...}``); a message about them
names the field, never the value.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

import hub

#: The GraphQL schema version this plugin is written against (Jobber's changelog names it the
#: newest active version); Jobber keeps a version for at least 12 months.
GRAPHQL_VERSION = "2025-04-16"


class JobberConfig(hub.ProviderConfig):
    client_id: str = Field(
        min_length=1,
        max_length=200,
        description="Your Jobber app's Client ID (Developer Center → Apps → your app)",
    )
    client_secret: SecretStr = Field(
        description="Your Jobber app's Client Secret: write {$env: JOBBER_CLIENT_SECRET}. "
        "It also signs Jobber's webhooks"
    )
    encryption_key: SecretStr = Field(
        description="Encrypts the Jobber tokens the hub keeps: a Fernet key (make one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
        ".decode())'`), written {$env: JOBBER_ENCRYPTION_KEY}. Changing it means connecting "
        "again"
    )
    api_base_url: str = Field(
        "https://api.getjobber.com",
        description="Jobber's API: /api/graphql and /api/oauth/... under it (tests: a fake)",
    )
    graphql_version: str = Field(
        GRAPHQL_VERSION,
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="Sent as X-JOBBER-GRAPHQL-VERSION: the schema version the queries use",
    )
    refresh_before: float = Field(
        300.0,
        ge=0,
        le=3000,
        description="Seconds before the access token expires that it is renewed",
    )
    timeout: float = Field(20.0, gt=0, le=120, description="Seconds to wait for Jobber")

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr) -> SecretStr:
        # Fernet's own test, without importing cryptography for `hub check`.
        try:
            key = base64.urlsafe_b64decode(value.get_secret_value().encode())
        except (ValueError, TypeError):
            key = b""
        if len(key) != 32:
            raise ValueError(
                "is not a Fernet key (32 url-safe base64-encoded bytes): make one with "
                "Fernet.generate_key()"
            )
        return value

    def url(self, path: str) -> str:
        return f"{self.api_base_url}{path}"
