"""What a ``use: housecall`` selection in hub.yaml may say."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

import hub


class HousecallConfig(hub.ProviderConfig):
    api_key: SecretStr = Field(
        min_length=8,
        description="A Housecall Pro API key (made in its settings; the API needs the MAX plan); "
        "write {$env: HOUSECALL_API_KEY}",
    )
    api_base_url: str = Field(
        "https://api.housecallpro.com", description="Housecall Pro's API base URL (tests: a fake)"
    )
    app_url: str = Field(
        "https://pro.housecallpro.com",
        description="Where Housecall Pro's web app is, for links to customers and leads",
    )
    lead_source: str = Field(
        "Missed call", min_length=1, max_length=100, description="The lead source new leads get"
    )
    requests_per_minute: int = Field(
        60,
        ge=1,
        le=600,
        description="Most requests a minute this hub makes with one API key (Housecall Pro "
        "does not publish its limit; it answers 429 when over)",
    )
    timeout: float = Field(15.0, gt=0, le=120, description="Seconds to wait for Housecall Pro")

    @field_validator("api_base_url", "app_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @property
    def account_key(self) -> str:
        """A short hash of the API key: names its shared throttle and the owner's notice."""
        return hashlib.sha256(self.api_key.get_secret_value().encode()).hexdigest()[:16]
