"""The three Sheets v4 REST calls the sink makes (append, update, get), over ``httpx``, and
Google's errors turned into what the owner should do about them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from hub_sheets.errors import SheetsError

if TYPE_CHECKING:
    from hub_sheets.auth import ServiceAccount


class SheetsApi:
    """One spreadsheet, written as one service account."""

    def __init__(
        self, base_url: str, spreadsheet_id: str, account: ServiceAccount, timeout: float
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.account = account
        # Full URLs, not a client base_url: a range like ``Leads!A1:append`` must never be
        # read as a URL of its own.
        self.values_url = f"{base_url}/v4/spreadsheets/{quote(spreadsheet_id, safe='')}/values/"
        self.client = httpx.AsyncClient(timeout=timeout)

    async def append(self, a1: str, rows: list[list[Any]]) -> str:
        """Append ``rows`` after the table at ``a1``, RAW; the range they landed in."""
        answer = await self._call(
            "POST",
            f"{_path(a1)}:append",
            params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
            body={"majorDimension": "ROWS", "values": rows},
        )
        updated: str = answer["updates"]["updatedRange"]
        return updated

    async def update(self, a1: str, rows: list[list[Any]]) -> None:
        """Overwrite the cells at ``a1`` with ``rows``, RAW."""
        await self._call(
            "PUT",
            _path(a1),
            params={"valueInputOption": "RAW"},
            body={"range": a1, "majorDimension": "ROWS", "values": rows},
        )

    async def get(self, a1: str) -> list[list[Any]]:
        """The values at ``a1`` (numbers as numbers); trailing empty rows and cells left out."""
        answer = await self._call(
            "GET", _path(a1), params={"valueRenderOption": "UNFORMATTED_VALUE"}
        )
        values: list[list[Any]] = answer.get("values", [])
        return values

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        token = await self.account.token()
        try:
            response = await self.client.request(
                method,
                self.values_url + path,
                params=params,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:  # refused, timed out, reset: worth another try
            raise SheetsError.retry(
                f"could not reach Google Sheets: {type(exc).__name__}"
            ) from None
        if response.is_success:
            answer: dict[str, Any] = response.json()
            return answer
        if response.status_code == 401:
            self.account.forget(token)
        raise self._error(response)

    def _error(self, response: httpx.Response) -> SheetsError:
        status = response.status_code
        message, reason = _google_error(response)
        said = f"{status} {reason}: {message}" if message else str(status)
        sheet = f"spreadsheet {self.spreadsheet_id}"
        if status == 429 or status >= 500:
            return SheetsError.retry(
                f"Google Sheets answered {said}", retry_after=_retry_after(response)
            )
        if status == 401:  # a token revoked early: the next attempt fetches a new one
            return SheetsError.retry(f"Google Sheets refused the access token ({said})")
        if status == 403 and ("disabled" in message or "has not been used" in message):
            return SheetsError.failed(
                f"the Google Sheets API is off for the service account's project: enable it "
                f"in Google Cloud (APIs & Services → Library → Google Sheets API). Google said "
                f"{said}"
            )
        if status == 403:
            return SheetsError.failed(
                f"Google denied access to {sheet}: share the sheet with "
                f"{self.account.email} as an Editor (Share → add that address). Google said "
                f"{said}"
            )
        if status == 404:
            return SheetsError.failed(
                f"Google has no {sheet}: check spreadsheet_id (the long part of the sheet's "
                f"URL between /d/ and /edit). Google said {said}"
            )
        if status == 400 and "Unable to parse range" in message:
            return SheetsError.failed(
                f"{sheet} has no tab by that name: add the tab, or set `sheet:` to the name of "
                f"an existing one. Google said {said}"
            )
        return SheetsError.failed(f"Google Sheets refused the write to {sheet}: {said}")

    async def aclose(self) -> None:
        await self.client.aclose()


def _path(a1: str) -> str:
    # Quotes, spaces and ! of a range go percent-encoded into the path.
    return quote(a1, safe="")


def _google_error(response: httpx.Response) -> tuple[str, str]:
    """Google's ``{"error": {"code", "message", "status"}}``: its message and status."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return response.text[:200], ""
    if not isinstance(error, dict):
        return str(error)[:200], ""
    return str(error.get("message", ""))[:300], str(error.get("status", ""))


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds; ``None`` (the hub's backoff) for a date or nothing."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
