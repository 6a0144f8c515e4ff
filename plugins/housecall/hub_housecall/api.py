"""The Housecall Pro calls the sink makes, over ``httpx``, and its answers turned into
``hub.DeliveryError``\\ s with what to do about them.

From Housecall Pro's public API (``https://api.housecallpro.com``, ``Authorization: Token
<key>``): ``GET /customers?q=`` (a fuzzy search over names, emails and phone numbers:
``{"customers": [...], "page", "page_size", "total_pages", "total_items"}``), ``POST
/customers`` (201, the customer), ``POST /leads`` with ``customer_id`` (201, the lead).
Assumed where the public docs are thin: ``GET /leads?customer_id=`` lists a customer's leads
(``{"leads": [...]}``), ``POST /customers/{id}/notes`` takes ``{"content": ...}`` (as the job
notes endpoint does), and errors come as ``{"error": {"message": ...}}`` or ``{"message": ...}``
(only the status code is relied on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

import hub
from hub_housecall.config import HousecallConfig

PLAN = "Housecall Pro's API is included in its MAX plan only"


class HousecallApi:
    """Housecall Pro for one API key. ``now`` is the hub's clock (seconds), for the throttle."""

    def __init__(self, config: HousecallConfig, now: Callable[[], float]) -> None:
        self.config = config
        self.now = now
        self.client = httpx.AsyncClient(
            base_url=config.api_base_url,
            timeout=config.timeout,
            headers={
                "Authorization": f"Token {config.api_key.get_secret_value()}",
                "Accept": "application/json",
            },
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def find_customer(self, phone: str) -> str | None:
        """A customer with ``phone`` (E.164) as one of its numbers. ``q`` is a fuzzy search,
        so each result's numbers are checked: a name or address with those digits is not a
        match."""
        digits = national(phone)
        answer = await self._call("GET", "/customers", params={"q": digits, "page_size": "25"})
        for customer in answer.get("customers") or []:
            numbers = (customer.get(n) for n in ("mobile_number", "home_number", "work_number"))
            if any(n and national(str(n)) == digits for n in numbers) and customer.get("id"):
                return str(customer["id"])
        return None

    async def create_customer(self, body: dict[str, Any]) -> str:
        answer = await self._call("POST", "/customers", json=body)
        return str(answer["id"])

    async def find_lead(self, customer_id: str, marker: str) -> str | None:
        """The customer's lead whose note carries ``marker`` (the hub's lead)."""
        answer = await self._call(
            "GET", "/leads", params={"customer_id": customer_id, "page_size": "100"}
        )
        for lead in answer.get("leads") or []:
            if marker in str(lead.get("note") or "") and lead.get("id"):
                return str(lead["id"])
        return None

    async def create_lead(self, body: dict[str, Any]) -> str:
        answer = await self._call("POST", "/leads", json=body)
        return str(answer["id"])

    async def add_note(self, customer_id: str, content: str) -> str:
        answer = await self._call(
            "POST", f"/customers/{customer_id}/notes", json={"content": content}
        )
        return str(answer.get("id", ""))

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        shared = hub.rate_window(
            (self.config.account_key, "all"), self.config.requests_per_minute, 60.0
        )
        wait = shared.take(self.now())
        if wait:
            raise hub.DeliveryError.retry(
                "holding Housecall Pro requests to stay under "
                f"{self.config.requests_per_minute} a minute for this API key",
                retry_after=round(wait + 0.5, 1),
            )
        try:
            response = await self.client.request(method, path, params=params, json=json)
        except httpx.ConnectError as exc:
            raise hub.DeliveryError.retry(
                f"could not reach Housecall Pro: {type(exc).__name__}"
            ) from None
        except httpx.HTTPError as exc:
            raise hub.DeliveryError.retry(
                f"no answer from Housecall Pro: {type(exc).__name__}",
                maybe_written=method != "GET",
            ) from None
        if response.is_success:
            try:
                answer: dict[str, Any] = response.json()
            except ValueError:
                raise hub.DeliveryError.retry(
                    f"Housecall Pro answered {response.status_code} with no JSON",
                    maybe_written=method != "GET",
                ) from None
            return answer
        raise self._error(response, shared)

    def _error(self, response: httpx.Response, shared: hub.RateWindow) -> hub.DeliveryError:
        status = response.status_code
        said = f"{status} {_message(response)}".strip()
        if status == 429:
            wait = _retry_after(response) or 60.0
            shared.close(self.now(), wait)  # every business on this key waits
            return hub.DeliveryError.retry(f"Housecall Pro rate limit ({said})", retry_after=wait)
        if status >= 500:
            return hub.DeliveryError.retry(
                f"Housecall Pro answered {said}",
                retry_after=_retry_after(response),
                maybe_written=response.request.method != "GET",
            )
        if status == 401:
            return hub.DeliveryError.failed(
                "Housecall Pro refused the API key (401): it was deleted, regenerated or "
                "mistyped. Make a new one in Housecall Pro's settings (API keys) and put it "
                "in hub.yaml's api_key",
                auth=True,
            )
        if status == 403:
            return hub.DeliveryError.failed(
                f"Housecall Pro denied the API key (403): {PLAN}; check the account's plan and "
                f"that the key is active. Housecall Pro said {said}",
                auth=True,
            )
        return hub.DeliveryError.failed(f"Housecall Pro refused the request: {said}")


def national(phone: str) -> str:
    """The digits Housecall Pro keeps for a North American number (``5125550123`` for
    ``+15125550123``); other numbers keep all their digits."""
    digits = "".join(c for c in phone if c.isdigit())
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message", ""))[:300]
        return str(error or body.get("message") or "")[:300]
    return str(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return min(max(float(value), 1.0), 3600.0) if value.isdigit() else None
