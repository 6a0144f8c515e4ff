"""The HubSpot CRM calls the sink makes, over ``httpx``: contacts (search, create), deals
(search, create, update), notes (create), the account's id; and HubSpot's answers turned into
``hub.DeliveryError``\\ s with what to do about them.

Association type ids are HubSpot-defined: deal→contact 3, note→contact 202, note→deal 214.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

import hub
from hub_hubspot.config import HubSpotConfig

DEAL_TO_CONTACT = 3
NOTE_TO_CONTACT = 202
NOTE_TO_DEAL = 214
#: HubSpot's search allows about 4 requests a second per account.
SEARCHES_PER_SECOND = 4
#: "Contact already exists. Existing ID: 12345" (a 409): the contact is found, not an error.
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
#: How long a 429 closes the token's window when HubSpot says nothing more precise.
POLICY_WAIT = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0, "DAILY": 3600.0}


class HubSpotApi:
    """HubSpot's CRM for one token. ``now`` is the hub's clock (seconds), for the throttle."""

    def __init__(self, config: HubSpotConfig, now: Callable[[], float]) -> None:
        self.config = config
        self.now = now
        version = config.api_version
        # v3: /crm/v3/objects/contacts; a date version: /crm/objects/2026-03/contacts.
        self.objects = (
            f"{config.api_base_url}/crm/v3/objects"
            if version == "v3"
            else f"{config.api_base_url}/crm/objects/{version}"
        )
        self.client = httpx.AsyncClient(
            timeout=config.timeout,
            headers={"Authorization": f"Bearer {config.token.get_secret_value()}"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- contacts ---------------------------------------------------------------------------------

    async def find_contact(self, phone: str) -> str | None:
        """A contact whose phone or mobile phone is ``phone`` (E.164), if search has it."""
        groups = [
            {"filters": [{"propertyName": name, "operator": "EQ", "value": phone}]}
            for name in ("phone", "mobilephone")
        ]
        return await self._search("contacts", groups)

    async def create_contact(self, properties: dict[str, str]) -> str:
        """A new contact's id; an existing one's when HubSpot says it already exists."""
        try:
            answer = await self._call("POST", "/contacts", {"properties": properties})
        except _Conflict as conflict:
            found = EXISTING_ID.search(conflict.message)
            if found is None:
                raise hub.DeliveryError.failed(
                    f"HubSpot refused the contact: 409 {conflict.message[:200]}"
                ) from None
            return found.group(1)
        return str(answer["id"])

    # -- deals ------------------------------------------------------------------------------------

    async def find_deal(self, name: str) -> str | None:
        groups = [{"filters": [{"propertyName": "dealname", "operator": "EQ", "value": name}]}]
        return await self._search("deals", groups)

    async def create_deal(self, properties: dict[str, str], contact_id: str) -> str:
        body = {
            "properties": properties,
            "associations": [_association(contact_id, DEAL_TO_CONTACT)],
        }
        answer = await self._call("POST", "/deals", body)
        return str(answer["id"])

    async def update_deal(self, deal_id: str, properties: dict[str, str]) -> None:
        await self._call("PATCH", f"/deals/{deal_id}", {"properties": properties})

    # -- notes ------------------------------------------------------------------------------------

    async def create_note(
        self, html: str, timestamp_ms: int, *, deal_id: str, contact_id: str
    ) -> str:
        """A note on the deal's and the contact's timelines; ``html`` is its body (HTML)."""
        properties = {"hs_note_body": html, "hs_timestamp": str(timestamp_ms)}
        if self.config.owner_id:
            properties["hubspot_owner_id"] = self.config.owner_id
        body = {
            "properties": properties,
            "associations": [
                _association(deal_id, NOTE_TO_DEAL),
                _association(contact_id, NOTE_TO_CONTACT),
            ],
        }
        answer = await self._call("POST", "/notes", body)
        return str(answer["id"])

    # -- the account ------------------------------------------------------------------------------

    async def portal_id(self) -> str:
        """The account's (portal's) id, for links to its records."""
        url = f"{self.config.api_base_url}/account-info/v3/details"
        answer = await self._call("GET", "", None, url=url)
        return str(answer["portalId"])

    # -- the wire ---------------------------------------------------------------------------------

    async def _search(self, kind: str, groups: list[dict[str, Any]]) -> str | None:
        searches = hub.rate_window((self.config.account_key, "search"), SEARCHES_PER_SECOND, 1.0)
        self._wait(searches, "searches")
        body = {"filterGroups": groups, "properties": ["hs_object_id"], "limit": 10}
        answer = await self._call("POST", f"/{kind}/search", body)
        results = answer.get("results") or []
        # The oldest match: the record anyone would have meant (ids grow).
        ids = sorted((str(r["id"]) for r in results if "id" in r), key=_numeric)
        return ids[0] if ids else None

    def _wait(self, window: hub.RateWindow, what: str) -> None:
        wait = window.take(self.now())
        if wait:
            raise hub.DeliveryError.retry(
                f"holding HubSpot {what} to stay under the token's rate limit",
                retry_after=round(wait + 0.5, 1),
            )

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None, *, url: str | None = None
    ) -> dict[str, Any]:
        shared = hub.rate_window((self.config.account_key, "all"), self.config.requests_per_10s, 10)
        self._wait(shared, "requests")
        try:
            response = await self.client.request(method, url or self.objects + path, json=body)
        except httpx.ConnectError as exc:  # never reached HubSpot: nothing was written
            raise hub.DeliveryError.retry(
                f"could not reach HubSpot: {type(exc).__name__}"
            ) from None
        except httpx.HTTPError as exc:  # sent, then no answer: it may have been written
            raise hub.DeliveryError.retry(
                f"no answer from HubSpot: {type(exc).__name__}", maybe_written=method != "GET"
            ) from None
        if response.is_success:
            try:
                answer: dict[str, Any] = response.json()
            except ValueError:
                raise hub.DeliveryError.retry(
                    f"HubSpot answered {response.status_code} with no JSON", maybe_written=True
                ) from None
            return answer
        raise self._error(response, shared)

    def _error(self, response: httpx.Response, shared: hub.RateWindow) -> Exception:
        status = response.status_code
        message, category, policy = _hubspot_error(response)
        said = f"{status} {category}: {message}".strip() if category else f"{status} {message}"
        if status == 409:
            return _Conflict(message)
        if status == 429:
            wait = _rate_limit_wait(response, policy)
            shared.close(self.now(), wait)  # every business on this token waits
            return hub.DeliveryError.retry(f"HubSpot rate limit ({said})", retry_after=wait)
        if status >= 500:
            return hub.DeliveryError.retry(
                f"HubSpot answered {said}", retry_after=_retry_after(response), maybe_written=True
            )
        if status == 401:
            return hub.DeliveryError.failed(
                "HubSpot refused the access token (401): it was revoked, expired or mistyped. "
                "Make a new service key or private-app token in HubSpot (Development → Keys or "
                "Private apps) and put it in hub.yaml's token",
                auth=True,
            )
        if status == 403:
            return hub.DeliveryError.failed(
                "HubSpot denied the token access (403): give it the scopes "
                "crm.objects.contacts.read, crm.objects.contacts.write, "
                f"crm.objects.deals.read and crm.objects.deals.write. HubSpot said {said}",
                auth=True,
            )
        if status == 400 and ("dealstage" in message or "pipeline" in message):
            return hub.DeliveryError.failed(
                f"HubSpot refused the deal's pipeline or stage: check pipeline and stages in "
                f"hub.yaml against the pipeline's internal ids. HubSpot said {said}"
            )
        return hub.DeliveryError.failed(f"HubSpot refused the request: {said}")


class _Conflict(Exception):
    """A 409: handled by the caller (an existing contact is found, not an error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def _numeric(record_id: str) -> tuple[int, str]:
    return (int(record_id), record_id) if record_id.isdigit() else (0, record_id)


def _hubspot_error(response: httpx.Response) -> tuple[str, str, str]:
    """HubSpot's ``{"status": "error", "message", "category" | "errorType", "policyName"}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200], "", ""
    if not isinstance(body, dict):
        return str(body)[:200], "", ""
    category = body.get("category") or body.get("errorType") or ""
    return str(body.get("message", ""))[:300], str(category), str(body.get("policyName", ""))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return min(float(value), 3600.0) if value.isdigit() else None


def _rate_limit_wait(response: httpx.Response, policy: str) -> float:
    """How long a 429 asks us to wait: ``Retry-After`` if given, else the window HubSpot's
    ``X-HubSpot-RateLimit-Interval-Milliseconds`` names, else the policy's own window."""
    given = _retry_after(response)
    if given is not None:
        return max(given, 1.0)
    interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
    if interval.isdigit():
        return max(int(interval) / 1000, 1.0)
    return POLICY_WAIT.get(policy, 10.0)
