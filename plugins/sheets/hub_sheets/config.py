"""What a ``use: sheets`` selection in hub.yaml may say, and the checks on the key it names.

The service-account key is checked for its shape when the config loads (so ``hub check`` and
``hub serve`` report it with its path), never shown: a message names the field that is wrong,
not its value.
"""

from __future__ import annotations

import difflib
import json
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

import hub
from hub_sheets.columns import COLUMNS, DEFAULT_COLUMNS

SCOPE = "https://www.googleapis.com/auth/spreadsheets"


class SheetsConfig(hub.ProviderConfig):
    spreadsheet_id: str = Field(
        min_length=10,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The spreadsheet's id: the long part of its URL between /d/ and /edit",
    )
    sheet: str = Field(
        "Leads", min_length=1, max_length=100, description="The tab the rows go in (its name)"
    )
    credentials: SecretStr = Field(
        description="The Google service account's JSON key: write {$file: key.json} or "
        "{$env: GOOGLE_SHEETS_KEY}; share the sheet with its client_email as an Editor"
    )
    columns: tuple[str, ...] = Field(
        DEFAULT_COLUMNS,
        min_length=1,
        description="The lead fields, one a column from A, in order; must include lead_id. "
        "Known: " + ", ".join(COLUMNS),
    )
    header: bool = Field(
        True, description="Write a header row first when the first row goes into an empty tab"
    )
    api_base_url: str = Field(
        "https://sheets.googleapis.com", description="The Sheets API's base URL (tests: a fake)"
    )
    writes_per_minute: int = Field(
        50,
        ge=1,
        le=300,
        description="Most writes a minute this hub makes with one service account; Google "
        "allows 60 a minute per account, over it every write is refused for a while",
    )
    timeout: float = Field(20.0, gt=0, description="Seconds to wait for Google's answer")

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in COLUMNS]
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, list(COLUMNS), n=1)
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ValueError(f"unknown column {', '.join(hints)}; known: {', '.join(COLUMNS)}")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"a column is listed twice: {', '.join(repeated)}")
        if "lead_id" not in value:
            raise ValueError("columns must include lead_id: the sink finds a lead's row by it")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("credentials")
    @classmethod
    def _key_shape(cls, value: SecretStr) -> SecretStr:
        problem = key_problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value

    def key(self) -> dict[str, Any]:
        """The service-account key, parsed (``credentials`` was checked when loaded)."""
        info: dict[str, Any] = json.loads(self.credentials.get_secret_value())
        return info


def key_problem(text: str) -> str | None:
    """What is wrong with a service-account key's shape, in words that never quote it."""
    try:
        info = json.loads(text)
    except ValueError:
        return (
            "is not a JSON key: download one from Google Cloud (IAM → Service accounts → "
            "Keys → Add key → JSON)"
        )
    if not isinstance(info, dict):
        return "is not a JSON key object"
    if info.get("type") != "service_account":
        return 'is not a service-account key (its "type" must be "service_account")'
    missing = [
        name
        for name in ("client_email", "private_key", "token_uri")
        if not isinstance(info.get(name), str) or not info[name]
    ]
    if missing:
        return f"the key has no {', '.join(missing)}"
    if urlsplit(info["token_uri"]).scheme not in ("http", "https"):
        return "the key's token_uri is not an http(s) URL"
    # cryptography loads only for a hub.yaml that has a sheets sink.
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        private_key = load_pem_private_key(info["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        return "the key's private_key is not an unencrypted PEM private key"
    if not isinstance(private_key, rsa.RSAPrivateKey):
        return "the key's private_key is not an RSA key"
    return None
