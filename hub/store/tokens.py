"""API tokens: created once (the caller shows the token, the table keeps its SHA-256), found
by the hash of what a request presents, revoked by id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from hub.models import ApiToken

#: Tokens start with this, so a leaked one is recognisable (secret scanners, logs).
PREFIX = "hubt_"


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as operators and the API see it: never the token itself."""

    id: int
    name: str
    businesses: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    def __repr__(self) -> str:
        return f"TokenView(id={self.id}, name={self.name!r}, businesses={self.businesses!r})"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _view(row: ApiToken) -> TokenView:
    return TokenView(row.id, row.name, tuple(row.businesses), row.created_at, row.revoked_at)


async def create(name: str, businesses: list[str], *, at: datetime) -> tuple[str, TokenView]:
    """A new token for ``businesses``: the token (shown once) and its record."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = await ApiToken.create(
        name=name, token_hash=digest(token), businesses=sorted(set(businesses)), created_at=at
    )
    return token, _view(row)


async def find(token: str) -> TokenView | None:
    """The live token a request presents, or ``None`` (unknown or revoked)."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    row = await ApiToken.get_or_none(token_hash=digest(token), revoked_at__isnull=True)
    return _view(row) if row else None


async def all_tokens() -> list[TokenView]:
    return [_view(row) for row in await ApiToken.all().order_by("id")]


async def revoke(token_id: int, *, at: datetime) -> bool:
    """Revoke a token; ``False`` if there is no such live token."""
    updated = await ApiToken.filter(id=token_id, revoked_at__isnull=True).update(revoked_at=at)
    return bool(updated)
