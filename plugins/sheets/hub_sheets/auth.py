"""The service account's access token: minted by google-auth, cached until it expires.

google-auth's refresh is blocking (it signs a JWT and POSTs it to the key's ``token_uri``
through ``requests``), so it runs in a thread; a lock makes concurrent deliveries that find the
token expired wait for one refresh instead of each fetching their own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2 import service_account

from hub_sheets.config import SCOPE
from hub_sheets.errors import SheetsError

#: Seconds the token request may take before it counts as a network failure.
TOKEN_TIMEOUT = 30.0


class _TimedRequest(google.auth.transport.requests.Request):
    """google-auth's ``requests`` transport with a timeout of ours (its default is 120 s)."""

    def __call__(
        self,
        url: Any,
        method: Any = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = TOKEN_TIMEOUT,
        **kwargs: Any,
    ) -> Any:
        return super().__call__(url, method, body, headers, timeout, **kwargs)


class ServiceAccount:
    """One service account's credentials and its current access token."""

    def __init__(self, info: dict[str, Any]) -> None:
        #: Not a secret: the address the owner shares the sheet with.
        self.email: str = info["client_email"]
        self._credentials = service_account.Credentials.from_service_account_info(
            info, scopes=[SCOPE]
        )
        self._session = requests.Session()
        self._request = _TimedRequest(self._session)
        self._lock = asyncio.Lock()
        #: How many tokens were fetched (for ``hub`` status and tests).
        self.refreshes = 0

    async def token(self) -> str:
        """A valid access token, fetched only when there is none or it is about to expire."""
        if not self._credentials.valid:
            async with self._lock:
                if not self._credentials.valid:  # another delivery may have refreshed it
                    await self._refresh()
        token: str = self._credentials.token
        return token

    def forget(self, token: str) -> None:
        """Drop ``token`` after Google refused it (revoked early): the next call fetches anew."""
        if self._credentials.token == token:
            self._credentials.token = None

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._credentials.refresh, self._request)
        except google.auth.exceptions.RefreshError as exc:
            # args[0] is Google's "error: description"; args[1] its answer. Neither holds the
            # key or the signed assertion.
            reason = str(exc.args[0]) if exc.args else type(exc).__name__
            if exc.retryable:
                raise SheetsError.retry(f"Google's token endpoint failed: {reason}") from None
            raise SheetsError.failed(
                f"Google refused the service account key of {self.email} ({reason}): the key "
                "may have been deleted or disabled; create a new JSON key for this service "
                "account (IAM → Service accounts → Keys) and point credentials at it"
            ) from None
        except google.auth.exceptions.TransportError as exc:
            raise SheetsError.retry(
                f"could not reach Google's token endpoint: {type(exc.__cause__ or exc).__name__}"
            ) from None
        self.refreshes += 1

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        return f"<ServiceAccount {self.email}>"
