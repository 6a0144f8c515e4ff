"""Who is calling the API: a bearer token (``hub tokens create``), its businesses, and its
share of requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request

from hub.api.errors import ApiError
from hub.ratelimit import RateLimit
from hub.store import tokens
from hub.store.tokens import TokenView

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="hub"'}


@dataclass(frozen=True, slots=True)
class Caller:
    token: TokenView
    #: The token's businesses that this hub still has.
    businesses: frozenset[str]

    @property
    def actor(self) -> str:
        """Who the timeline says made a change."""
        return f"api:{self.token.name}"


class Authenticator:
    def __init__(self, businesses: Mapping[str, object], limit: RateLimit) -> None:
        self.businesses = businesses
        self.limit = limit

    async def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiError(
                401, "unauthorized", "send the token as Authorization: Bearer TOKEN", _CHALLENGE
            )
        token = await tokens.find(presented.strip())
        if token is None:
            raise ApiError(401, "unauthorized", "unknown or revoked token", _CHALLENGE)
        wait = self.limit.hit(f"token:{token.id}")
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests for this token; try again in {int(wait)} s",
                {"Retry-After": str(int(wait))},
            )
        scope = frozenset(slug for slug in token.businesses if slug in self.businesses)
        return Caller(token, scope)
