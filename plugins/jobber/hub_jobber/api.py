"""Jobber over HTTP (``httpx``): the GraphQL endpoint and the OAuth token endpoint, with
Jobber's errors turned into what to do about them.

- GraphQL: ``POST {base}/api/graphql``, ``Authorization: Bearer``, ``X-JOBBER-GRAPHQL-VERSION``.
  Jobber answers 200 with ``errors`` for a bad query or a ``THROTTLED`` budget, and 200 with a
  mutation's ``userErrors`` for input it refuses; 401 for an expired or revoked token; 429
  past 2,500 requests in 5 minutes.
- OAuth: ``POST {base}/api/oauth/token`` (form) for the code exchange and the refresh.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hub_jobber import throttle
from hub_jobber.config import JobberConfig
from hub_jobber.errors import JobberError, NotConnected, Unauthorized

#: What a query is budgeted at before Jobber says (ours cost tens of points).
DEFAULT_COST = 100.0
#: Seconds to come back after a 429 or 5xx that names no wait.
BACKOFF = 30.0


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    #: Seconds the access token lives, from its JWT (``exp - iat``); Jobber's default is 60 min.
    lifetime: float

    def __repr__(self) -> str:
        return f"<Tokens lifetime={self.lifetime:.0f}s>"


class JobberApi:
    def __init__(self, config: JobberConfig, clock: Callable[[], float]) -> None:
        self.config = config
        #: The hub's time in seconds, which the query budget is reckoned by.
        self.clock = clock
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        # Made on first use, inside the running loop (`hub jobber connect` never needs one).
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # -- GraphQL ----------------------------------------------------------------------------------

    async def graphql(
        self, token: str, account: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        """The ``data`` of one query; ``Unauthorized`` on 401, ``JobberError`` otherwise."""
        wait = await throttle.take(account, self.clock())
        if wait is not None:
            raise JobberError.retry(
                "holding Jobber queries: the account's query budget is spent",
                retry_after=round(wait + 0.5, 1),
            )
        try:
            response = await self.client.post(
                self.config.url("/api/graphql"),
                json={"query": query, "variables": variables},
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-JOBBER-GRAPHQL-VERSION": self.config.graphql_version,
                },
            )
        except httpx.HTTPError as exc:  # refused, timed out, reset: worth another try
            raise JobberError.retry(
                f"could not reach Jobber: {type(exc).__name__}",
                uncertain=not isinstance(exc, httpx.ConnectError),
            ) from None
        status = response.status_code
        if status == 401:
            raise Unauthorized()
        if status == 429 or status >= 500:
            raise JobberError.retry(
                f"Jobber answered {status}",
                retry_after=_retry_after(response) or BACKOFF,
                uncertain=status >= 500,
            )
        if status == 403:
            raise JobberError.failed(
                "Jobber refused access (403): the app lacks a scope it needs (clients and "
                "requests, read and write); add the scopes in Jobber's Developer Center and "
                "connect again"
            )
        if status >= 400:
            raise JobberError.failed(f"Jobber refused the query: {status} {_text(response)}")
        try:
            answer = response.json()
        except ValueError:
            raise JobberError.retry(
                "Jobber answered something other than JSON", uncertain=True
            ) from None
        if not isinstance(answer, dict):
            raise JobberError.retry("Jobber answered something other than a GraphQL result")
        cost = (answer.get("extensions") or {}).get("cost") or {}
        throttle.record(
            account, cost.get("throttleStatus"), self.clock(), cost.get("requestedQueryCost")
        )
        errors = answer.get("errors") or []
        if errors:
            raise _graphql_error(account, errors, cost, self.clock())
        data = answer.get("data")
        if not isinstance(data, dict):
            raise JobberError.retry("Jobber answered with no data")
        return data

    # -- OAuth ------------------------------------------------------------------------------------

    async def exchange(self, code: str, redirect_uri: str) -> Tokens:
        """Tokens for an authorization code; ``NotConnected`` if Jobber refuses the code."""
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens (and, with rotation on, a new refresh token); ``NotConnected`` if Jobber
        refuses the refresh token (disconnected, or already rotated)."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, form: dict[str, str]) -> Tokens:
        form = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret.get_secret_value(),
            **form,
        }
        try:
            response = await self.client.post(self.config.url("/api/oauth/token"), data=form)
        except httpx.HTTPError as exc:
            raise JobberError.retry(
                f"could not reach Jobber's token endpoint: {type(exc).__name__}"
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise JobberError.retry(
                f"Jobber's token endpoint answered {response.status_code}",
                retry_after=_retry_after(response) or BACKOFF,
            )
        if response.status_code >= 400:
            # Never echo the body: it may repeat what was sent.
            raise NotConnected(f"Jobber refused the grant ({response.status_code})")
        try:
            answer = response.json()
            access, refresh = answer["access_token"], answer["refresh_token"]
        except (ValueError, KeyError, TypeError):
            raise JobberError.retry("Jobber's token endpoint answered without tokens") from None
        if not isinstance(access, str) or not isinstance(refresh, str) or not access:
            raise JobberError.retry("Jobber's token endpoint answered without tokens")
        return Tokens(access, refresh, _lifetime(access))


def _graphql_error(
    account: str, errors: list[Any], cost: dict[str, Any], now: float
) -> JobberError:
    codes = [
        (error.get("extensions") or {}).get("code") for error in errors if isinstance(error, dict)
    ]
    if "THROTTLED" in codes:
        requested = cost.get("requestedQueryCost")
        wait = throttle.wait_for(
            account,
            float(requested) if isinstance(requested, int | float) else DEFAULT_COST,
            now,
            cost.get("throttleStatus"),
        )
        return JobberError.retry(
            "Jobber throttled the query (its query-cost budget is spent)",
            retry_after=round(max(wait, 1.0) + 0.5, 1),
        )
    messages = "; ".join(
        str(error.get("message", ""))[:200] for error in errors[:3] if isinstance(error, dict)
    )
    return JobberError.failed(f"Jobber refused the query: {messages or 'no reason given'}")


def user_errors(payload: object, what: str) -> None:
    """``JobberError`` (final) for a mutation payload's ``userErrors``: Jobber refused the
    input, and the same input will be refused again."""
    if not isinstance(payload, dict):
        raise JobberError.retry(f"Jobber answered {what} without its payload")
    errors = payload.get("userErrors") or []
    if errors:
        messages = "; ".join(
            str(error.get("message", ""))[:200] for error in errors[:3] if isinstance(error, dict)
        )
        raise JobberError.failed(f"Jobber refused {what}: {messages}")


def _lifetime(access_token: str) -> float:
    """``exp - iat`` of a JWT access token, without verifying it (only Jobber can); an hour
    (Jobber's default) if it says nothing usable."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        lifetime = float(claims["exp"]) - float(claims["iat"])
    except (IndexError, ValueError, KeyError, TypeError):
        return 3600.0
    return lifetime if 60 <= lifetime <= 86400 else 3600.0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _text(response: httpx.Response) -> str:
    return response.text[:200].replace("\n", " ")
