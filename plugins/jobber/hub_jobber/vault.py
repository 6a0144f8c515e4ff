"""The Jobber tokens, sealed with Fernet (AES-128-CBC and HMAC-SHA256) before they reach the
plugin state, so a copy of the hub's database is no copy of the owner's Jobber access."""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


class Vault:
    def __init__(self, key: SecretStr) -> None:
        self._key = key

    @cached_property
    def _fernet(self) -> Fernet:
        # cryptography loads on the first token sealed or opened, not when `hub check` builds
        # the sink.
        from cryptography.fernet import Fernet

        return Fernet(self._key.get_secret_value().encode())

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any] | None:
        """The sealed value; ``None`` if it was sealed with another key (or altered)."""
        from cryptography.fernet import InvalidToken

        try:
            value = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def __repr__(self) -> str:
        return "<Vault>"
