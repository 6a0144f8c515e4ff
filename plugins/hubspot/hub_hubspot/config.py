"""What a ``use: hubspot`` selection in hub.yaml may say."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

import hub

#: The hub's lead statuses, which ``stages`` maps onto deal stages.
STATUSES = ("new", "contacted", "booked", "closed")
#: The stages of HubSpot's own "Sales Pipeline" (``default``): a fresh account has them.
DEFAULT_STAGES: dict[str, str | None] = {
    "new": "appointmentscheduled",
    "contacted": "qualifiedtobuy",
    "booked": "closedwon",
    "closed": "closedlost",
}
#: HubSpot's current date version (its docs, late 2026: "2026-03"; "2026-09" is announced
#: with stricter write validation). ``v3`` keeps the legacy ``/crm/v3/...`` paths.
CURRENT_API_VERSION = "2026-03"


class HubSpotConfig(hub.ProviderConfig):
    token: SecretStr = Field(
        min_length=8,
        description="A HubSpot service key or private-app access token (Bearer) with the "
        "crm.objects.contacts.read/write and crm.objects.deals.read/write scopes; write "
        "{$env: HUBSPOT_TOKEN}",
    )
    api_base_url: str = Field(
        "https://api.hubapi.com", description="HubSpot's API base URL (tests: a fake)"
    )
    api_version: str = Field(
        CURRENT_API_VERSION,
        pattern=r"^(v3|\d{4}-\d{2})$",
        description="The CRM API version: a date version (/crm/objects/2026-03/...) or v3 "
        "(the legacy /crm/v3/objects/... paths)",
    )
    pipeline: str = Field(
        "default", min_length=1, description="The deal pipeline's internal id (default: Sales)"
    )
    stages: dict[str, str | None] = Field(
        default_factory=lambda: dict(DEFAULT_STAGES),
        description="The deal stage (its internal id) for each lead status: new, contacted, "
        "booked, closed; null leaves the stage as it is. Unnamed statuses keep the defaults",
    )
    owner_id: str | None = Field(
        None, pattern=r"^\d+$", description="The HubSpot owner (user) id new deals are given"
    )
    portal_id: str | None = Field(
        None,
        pattern=r"^\d+$",
        description="The HubSpot account (portal) id for links to records; asked of HubSpot "
        "once when not set",
    )
    requests_per_10s: int = Field(
        90,
        ge=1,
        le=190,
        description="Most requests every 10 seconds this hub makes with one token (HubSpot "
        "allows 100 on Free/Starter, 190 on Pro/Enterprise, shared by every app on the token)",
    )
    timeout: float = Field(15.0, gt=0, le=120, description="Seconds to wait for HubSpot")

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        unknown = sorted(set(value) - set(STATUSES))
        if unknown:
            raise ValueError(
                f"unknown lead status {', '.join(map(repr, unknown))}; known: "
                + ", ".join(STATUSES)
            )
        for status, stage in value.items():
            if stage is not None and not (0 < len(stage) <= 100):
                raise ValueError(f"the stage for {status!r} must have 1 to 100 characters")
        return {**DEFAULT_STAGES, **value}

    @property
    def account_key(self) -> str:
        """A short hash of the token: names its shared throttle and the owner's notice,
        never the token itself."""
        return hashlib.sha256(self.token.get_secret_value().encode()).hexdigest()[:16]
