"""The Jobber tokens, sealed with Fernet (AES-128-CBC and HMAC-SHA256) before they reach the
plugin state, so a copy of the hub's database is no copy of the owner's Jobber access."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr


class Vault:
    def __init__(self, key: SecretStr) -> None:
        self._fernet = Fernet(key.get_secret_value().encode())

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any] | None:
        """The sealed value; ``None`` if it was sealed with another key (or altered)."""
        try:
            value = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def __repr__(self) -> str:
        return "<Vault>"
