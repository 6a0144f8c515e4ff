"""A fake HubSpot for testing the hubspot sink, or anything else that writes HubSpot's CRM, on
top of the core's kit (``hub.testing``).

- ``FakeHubSpot``: HubSpot's CRM objects API (contacts, deals, notes: create, read, update,
  search) under both path styles, ``/crm/v3/objects/...`` and the date-versioned
  ``/crm/objects/2026-03/...``, and ``/account-info/v3/details``, on 127.0.0.1 (real HTTP, its
  own thread; a ``hub.testing.FakeProviderServer``, so ``script(...)`` plays outages first and
  ``requests`` keeps every request). It answers as HubSpot does: Bearer tokens (401
  ``INVALID_AUTHENTICATION`` for an unknown or revoked one, ``revoke(token)``), 409 "Contact
  already exists. Existing ID: N" for a repeated email, 400 ``VALIDATION_ERROR`` for an unknown
  pipeline or stage, a missing ``hs_timestamp`` or a wrong association type, and 429
  ``RATE_LIMIT`` over 100 requests in 10 seconds or 4 searches a second per token, with the
  ``X-HubSpot-RateLimit-*`` headers on every answer.
- Search lags behind writes, as HubSpot's does: a record shows in search ``search_lag``
  seconds after it was written (``None``: never, until ``index()``). Its clock is ``clock``
  (seconds; set it to the hub's, ``fake.clock = lambda: kit.clock.now().timestamp()``).
- ``lose_next_answer()``: the next write is made, then answered 502, as when HubSpot's answer
  is lost on the way back.
- ``hubspot_sink(fake, **settings)``: the hub.yaml selection of the sink, pointed at the fake.
- the ``fake_hubspot`` fixture (``pytest_plugins = ["hub.testing", "hub_hubspot.testing"]``).
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.testing import FakeProviderServer, RecordedRequest

PORTAL_ID = "24681357"
#: HubSpot's own Sales Pipeline and its stages, as a new account has them.
PIPELINES = {
    "default": (
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    )
}
#: The HubSpot-defined association types the fake knows: (from, to) → type id.
ASSOCIATIONS = {("deals", "contacts"): 3, ("notes", "contacts"): 202, ("notes", "deals"): 214}
TYPES = ("contacts", "deals", "notes")
PATH = re.compile(
    r"^/crm/(?:v3/objects|objects/(?P<version>\d{4}-\d{2}))/(?P<type>[a-z]+)"
    r"(?:/(?P<rest>[^/]+))?$"
)
VERSIONS = {"2025-09", "2026-03", "2026-09"}


@dataclass
class FakeRecord:
    id: str
    type: str
    properties: dict[str, str]
    #: (to type, to id, association type id)
    associations: list[tuple[str, str, int]]
    written_at: float
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def json(self, names: list[str] | None = None) -> dict[str, Any]:
        properties = (
            dict(self.properties)
            if names is None
            else {name: self.properties.get(name) for name in names}
        )
        properties["hs_object_id"] = self.id
        return {
            "id": self.id,
            "properties": properties,
            "createdAt": self.created,
            "updatedAt": self.created,
            "archived": False,
        }


def hubspot_error(status: int, message: str, category: str, **more: Any) -> JSONResponse:
    """An error in HubSpot's shape."""
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **more,
    }
    return JSONResponse(body, status_code=status)


class FakeHubSpot(FakeProviderServer):
    """HubSpot's CRM on 127.0.0.1. ``token`` is a token it accepts (``new_token()`` makes
    more: each is its own account's rate limit, as separate HubSpot accounts are)."""

    def __init__(
        self,
        *,
        search_lag: float | None = 5.0,
        per_10s: int = 100,
        searches_per_second: int = 4,
    ) -> None:
        super().__init__()
        self.search_lag = search_lag
        self.per_10s = per_10s
        self.searches_per_second = searches_per_second
        self.clock: Callable[[], float] = time.monotonic
        self.records: dict[str, dict[str, FakeRecord]] = {kind: {} for kind in TYPES}
        self.tokens: set[str] = set()
        self.token = self.new_token()
        self._ids = itertools.count(1001)
        self._indexed: set[str] = set()
        self._calls: dict[str, deque[float]] = {}
        self._searches: dict[str, deque[float]] = {}
        self._lose = 0
        self._state = threading.Lock()

    # -- setting up -------------------------------------------------------------------------------

    def new_token(self) -> str:
        token = f"pat-na1-{uuid.uuid4()}-{secrets.token_hex(4)}"
        self.tokens.add(token)
        return token

    def revoke(self, token: str) -> None:
        """The token is deleted in HubSpot: every call with it is 401."""
        self.tokens.discard(token)

    def lose_next_answer(self, count: int = 1) -> None:
        """The next ``count`` writes are made, then answered 502."""
        self._lose += count

    def index(self) -> None:
        """Search shows every record written so far."""
        with self._state:
            for kind in TYPES:
                self._indexed.update(self.records[kind])

    def add_contact(self, **properties: str) -> FakeRecord:
        """A contact made in HubSpot by hand (already searchable)."""
        record = self._create("contacts", properties, [])
        self._indexed.add(record.id)
        return record

    # -- reading what was written -----------------------------------------------------------------

    def contacts(self) -> list[FakeRecord]:
        return list(self.records["contacts"].values())

    def deals(self) -> list[FakeRecord]:
        return list(self.records["deals"].values())

    def notes(self) -> list[FakeRecord]:
        return list(self.records["notes"].values())

    def deals_for_lead(self, lead_id: int) -> list[FakeRecord]:
        marker = f"(lead #{lead_id})"
        return [deal for deal in self.deals() if marker in deal.properties.get("dealname", "")]

    def contact_of(self, deal: FakeRecord) -> str | None:
        return next((to for kind, to, _ in deal.associations if kind == "contacts"), None)

    def notes_on(self, deal_id: str) -> list[FakeRecord]:
        return [
            note
            for note in self.notes()
            if ("deals", deal_id, ASSOCIATIONS[("notes", "deals")]) in note.associations
        ]

    @property
    def writes(self) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.method in ("POST", "PATCH") and "/search" not in r.path
        ]

    # -- the API ----------------------------------------------------------------------------------

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        token = recorded.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return hubspot_error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        limited = self._over_limit(token, recorded)
        if limited is not None:
            return limited
        response = self._route(request.method, recorded)
        remaining = self.per_10s - len(self._calls[token])
        response.headers.update(
            {
                "X-HubSpot-RateLimit-Max": str(self.per_10s),
                "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Daily": "250000",
                "X-HubSpot-RateLimit-Daily-Remaining": "249000",
            }
        )
        if (
            self._lose
            and request.method in ("POST", "PATCH")
            and "/search" not in recorded.path
            and response.status_code < 300
        ):
            self._lose -= 1
            return Response("<html>502 Bad Gateway</html>", status_code=502)
        return response

    def _over_limit(self, token: str, recorded: RecordedRequest) -> Response | None:
        now = self.clock()
        calls = self._calls.setdefault(token, deque())
        while calls and calls[0] <= now - 10:
            calls.popleft()
        if len(calls) >= self.per_10s:
            return hubspot_error(
                429,
                "You have reached your ten_secondly_rolling limit.",
                "RATE_LIMITS",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            )
        calls.append(now)
        if recorded.path.endswith("/search"):
            searches = self._searches.setdefault(token, deque())
            while searches and searches[0] <= now - 1:
                searches.popleft()
            if len(searches) >= self.searches_per_second:
                return hubspot_error(
                    429,
                    "You have reached your secondly limit.",
                    "RATE_LIMITS",
                    errorType="RATE_LIMIT",
                    policyName="SECONDLY",
                )
            searches.append(now)
        return None

    def _route(self, method: str, recorded: RecordedRequest) -> Response:
        if recorded.path == "/account-info/v3/details" and method == "GET":
            return JSONResponse(
                {"portalId": int(PORTAL_ID), "accountType": "STANDARD", "timeZone": "US/Central"}
            )
        match = PATH.match(recorded.path)
        version = match["version"] if match else None
        if match is None or match["type"] not in TYPES or (version and version not in VERSIONS):
            return hubspot_error(404, f"No route for {recorded.path}", "OBJECT_NOT_FOUND")
        kind, rest = match["type"], match["rest"]
        try:
            body = recorded.json if recorded.body else {}
        except ValueError:
            return hubspot_error(400, "Invalid input JSON", "VALIDATION_ERROR")
        if not isinstance(body, dict):
            return hubspot_error(400, "Invalid input JSON", "VALIDATION_ERROR")
        with self._state:
            if method == "POST" and rest is None:
                return self._post(kind, body)
            if method == "POST" and rest == "search":
                return self._search(kind, body)
            record = self.records[kind].get(rest or "")
            if record is None:
                return hubspot_error(404, f"Object not found. objectId: {rest}", "OBJECT_NOT_FOUND")
            if method == "GET":
                return JSONResponse(record.json())
            if method == "PATCH":
                properties = body.get("properties")
                if not isinstance(properties, dict):
                    return hubspot_error(400, "properties are required", "VALIDATION_ERROR")
                problem = self._invalid(kind, {**record.properties, **properties})
                if problem:
                    return hubspot_error(400, problem, "VALIDATION_ERROR")
                record.properties.update({k: str(v) for k, v in properties.items()})
                return JSONResponse(record.json())
        return hubspot_error(405, "Method not allowed", "VALIDATION_ERROR")

    def _post(self, kind: str, body: dict[str, Any]) -> Response:
        properties = body.get("properties")
        if not isinstance(properties, dict):
            return hubspot_error(400, "properties are required", "VALIDATION_ERROR")
        properties = {k: str(v) for k, v in properties.items()}
        problem = self._invalid(kind, properties)
        if problem:
            return hubspot_error(400, problem, "VALIDATION_ERROR")
        email = properties.get("email")
        if kind == "contacts" and email:
            for contact in self.records["contacts"].values():
                if contact.properties.get("email") == email:
                    return hubspot_error(
                        409, f"Contact already exists. Existing ID: {contact.id}", "CONFLICT"
                    )
        associations = []
        for item in body.get("associations") or []:
            to = str(item.get("to", {}).get("id", ""))
            for kind_of in item.get("types", []):
                type_id = kind_of.get("associationTypeId")
                target = next(
                    (t for (f, t), n in ASSOCIATIONS.items() if f == kind and n == type_id), None
                )
                if target is None or kind_of.get("associationCategory") != "HUBSPOT_DEFINED":
                    return hubspot_error(
                        400, f"Unknown association type {type_id} from {kind}", "VALIDATION_ERROR"
                    )
                if to not in self.records[target]:
                    return hubspot_error(
                        400, f"No {target} with ID {to} to associate", "VALIDATION_ERROR"
                    )
                associations.append((target, to, int(type_id)))
        record = self._create(kind, properties, associations)
        return JSONResponse(record.json(), status_code=201)

    def _create(
        self, kind: str, properties: dict[str, str], associations: list[tuple[str, str, int]]
    ) -> FakeRecord:
        record = FakeRecord(str(next(self._ids)), kind, properties, associations, self.clock())
        self.records[kind][record.id] = record
        return record

    def _invalid(self, kind: str, properties: dict[str, str]) -> str | None:
        if kind == "notes" and not properties.get("hs_timestamp"):
            return "Property values were not valid: hs_timestamp is required"
        if kind == "deals":
            pipeline = properties.get("pipeline", "default")
            stages = PIPELINES.get(pipeline)
            if stages is None:
                return f"Property values were not valid: pipeline {pipeline!r} does not exist"
            stage = properties.get("dealstage")
            if stage is None or stage not in stages:
                return (
                    f"Property values were not valid: dealstage {stage!r} is not a stage of "
                    f"pipeline {pipeline!r}"
                )
        return None

    def _search(self, kind: str, body: dict[str, Any]) -> Response:
        now = self.clock()
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > 5:
            return hubspot_error(400, "At most 5 filterGroups", "VALIDATION_ERROR")
        found = []
        for record in self.records[kind].values():
            visible = record.id in self._indexed or (
                self.search_lag is not None and now - record.written_at >= self.search_lag
            )
            if visible and any(_matches(record, group) for group in groups):
                found.append(record)
        names = body.get("properties")
        limit = int(body.get("limit") or 10)
        results = [r.json(names if isinstance(names, list) else None) for r in found[:limit]]
        return JSONResponse({"total": len(found), "results": results})


def _matches(record: FakeRecord, group: dict[str, Any]) -> bool:
    for condition in group.get("filters", []):
        value = record.properties.get(condition.get("propertyName", ""))
        if condition.get("operator") != "EQ" or value is None:
            return False
        if value.lower() != str(condition.get("value", "")).lower():
            return False
    return bool(group.get("filters"))


def hubspot_sink(fake: FakeHubSpot, **settings: Any) -> dict[str, Any]:
    """A hub.yaml selection of the hubspot sink, pointed at ``fake`` with its token."""
    selection: dict[str, Any] = {
        "use": "hubspot",
        "token": fake.token,
        "api_base_url": fake.url,
        "portal_id": PORTAL_ID,
    }
    selection.update(settings)
    return selection


@pytest.fixture
def fake_hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with fake:
        yield fake
