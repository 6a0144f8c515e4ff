"""A fake Housecall Pro for testing the housecall sink, or anything else that writes Housecall
Pro customers and leads, on top of the core's kit (``hub.testing``).

- ``FakeHousecall``: Housecall Pro's public API as the sink uses it — ``GET /customers?q=``
  (a fuzzy search over names, emails and phone digits, paged as Housecall Pro pages),
  ``POST /customers``, ``POST /leads``, ``GET /leads?customer_id=``, ``POST
  /customers/{id}/notes`` — on 127.0.0.1 (real HTTP, its own thread; a
  ``hub.testing.FakeProviderServer``, so ``script(...)`` plays outages first and ``requests``
  keeps every request). ``Authorization: Token <key>``: 401 for an unknown or revoked key
  (``revoke(key)``), 403 when the account's plan has no API (``plan_has_api = False``), 422 for
  a body it cannot take, 404 for an unknown customer, and 429 with ``Retry-After`` over
  ``per_minute`` requests a minute per key.
- Search lags behind writes: a record shows in search ``search_lag`` seconds after it was
  written (``None``: never, until ``index()``), by ``clock`` (seconds; set it to the hub's).
- ``lose_next_answer()``: the next write is made, then answered 502.
- ``housecall_sink(fake, **settings)``: the hub.yaml selection of the sink, pointed at the fake.
- the ``fake_housecall`` fixture (``pytest_plugins = ["hub.testing", "hub_housecall.testing"]``).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.testing import FakeProviderServer, RecordedRequest

NOTES = re.compile(r"^/customers/(?P<id>[^/]+)/notes$")
PHONES = ("mobile_number", "home_number", "work_number")


def housecall_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)


def _digits(value: object) -> str:
    return "".join(c for c in str(value or "") if c.isdigit())


class FakeHousecall(FakeProviderServer):
    """Housecall Pro on 127.0.0.1. ``api_key`` is a key it accepts."""

    def __init__(self, *, search_lag: float | None = 5.0, per_minute: int | None = None) -> None:
        super().__init__()
        self.search_lag = search_lag
        self.per_minute = per_minute
        self.plan_has_api = True
        self.clock: Callable[[], float] = time.monotonic
        self.api_keys: set[str] = set()
        self.api_key = self.new_key()
        self.customers: dict[str, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, Any]] = {}
        #: customer id → its notes, oldest first.
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self._written: dict[str, float] = {}
        self._indexed: set[str] = set()
        self._calls: dict[str, deque[float]] = {}
        self._lose = 0
        self._numbers = 1000
        self._state = threading.Lock()

    # -- setting up -------------------------------------------------------------------------------

    def new_key(self) -> str:
        key = secrets.token_hex(16)
        self.api_keys.add(key)
        return key

    def revoke(self, key: str) -> None:
        self.api_keys.discard(key)

    def lose_next_answer(self, count: int = 1) -> None:
        self._lose += count

    def index(self) -> None:
        self._indexed.update(self._written)

    def add_customer(self, **fields: Any) -> dict[str, Any]:
        """A customer made in Housecall Pro by hand (already searchable)."""
        customer = self._new_customer(fields)
        self._indexed.add(customer["id"])
        return customer

    # -- reading what was written -----------------------------------------------------------------

    def leads_for(self, hub_lead_id: int) -> list[dict[str, Any]]:
        marker = f"(hub lead #{hub_lead_id} of "
        return [lead for lead in self.leads.values() if marker in str(lead.get("note"))]

    def notes_of(self, customer_id: str) -> list[str]:
        return [note["content"] for note in self.notes.get(customer_id, [])]

    @property
    def writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST"]

    # -- the API ----------------------------------------------------------------------------------

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        authorization = recorded.headers.get("authorization", "")
        key = authorization.removeprefix("Token ")
        if not authorization.startswith("Token ") or key not in self.api_keys:
            return housecall_error(401, "Unauthorized")
        if not self.plan_has_api:
            return housecall_error(403, "Your plan does not include API access")
        limited = self._over_limit(key)
        if limited is not None:
            return limited
        with self._state:
            response = self._route(request.method, recorded)
        if self._lose and request.method == "POST" and response.status_code < 300:
            self._lose -= 1
            return Response("<html>502 Bad Gateway</html>", status_code=502)
        return response

    def _over_limit(self, key: str) -> Response | None:
        if self.per_minute is None:
            return None
        now = self.clock()
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - 60:
            calls.popleft()
        if len(calls) >= self.per_minute:
            wait = int(calls[0] + 60 - now) + 1
            return housecall_error(429, "Too many requests", {"Retry-After": str(wait)})
        calls.append(now)
        return None

    def _route(self, method: str, recorded: RecordedRequest) -> Response:
        path, query = recorded.path, recorded.query
        body: Any = {}
        if method == "POST":
            try:
                body = recorded.json
            except ValueError:
                return housecall_error(400, "Malformed JSON")
            if not isinstance(body, dict):
                return housecall_error(400, "Malformed JSON")
        if path == "/customers" and method == "GET":
            return self._search(query)
        if path == "/customers" and method == "POST":
            if not any(body.get(n) for n in ("first_name", "last_name", "email", *PHONES)):
                return housecall_error(422, "A name, email or phone number is required")
            if body.get("notifications_enabled") not in (None, True, False):
                return housecall_error(422, "notifications_enabled must be a boolean")
            return JSONResponse(self._new_customer(body), status_code=201)
        if path == "/leads" and method == "POST":
            customer = self.customers.get(str(body.get("customer_id", "")))
            if customer is None:
                return housecall_error(404, "Customer not found")
            self._numbers += 1
            lead = {
                "id": f"lead_{secrets.token_hex(8)}",
                "number": str(self._numbers),
                "customer": customer,
                "note": body.get("note"),
                "lead_source": body.get("lead_source"),
                "status": "open",
                "pipeline_status": "New",
                "created_at": datetime.now(UTC).isoformat(),
            }
            self.leads[lead["id"]] = lead
            self._written[lead["id"]] = self.clock()
            return JSONResponse(lead, status_code=201)
        if path == "/leads" and method == "GET":
            customer_id = query.get("customer_id")
            found = [
                lead
                for lead in self.leads.values()
                if self._visible(lead["id"])
                and (customer_id is None or lead["customer"]["id"] == customer_id)
            ]
            return JSONResponse(self._page(found, query, "leads"))
        notes = NOTES.match(path)
        if notes and method == "POST":
            if notes["id"] not in self.customers:
                return housecall_error(404, "Customer not found")
            content = body.get("content")
            if not isinstance(content, str) or not content.strip():
                return housecall_error(422, "content is required")
            note = {"id": f"note_{secrets.token_hex(8)}", "content": content}
            self.notes.setdefault(notes["id"], []).append(note)
            return JSONResponse(note, status_code=201)
        return housecall_error(404, "Not found")

    def _new_customer(self, fields: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        customer = {
            "id": f"cus_{secrets.token_hex(8)}",
            "first_name": fields.get("first_name"),
            "last_name": fields.get("last_name"),
            "email": fields.get("email"),
            "company": fields.get("company"),
            "mobile_number": fields.get("mobile_number"),
            "home_number": fields.get("home_number"),
            "work_number": fields.get("work_number"),
            "notifications_enabled": fields.get("notifications_enabled", True),
            "lead_source": fields.get("lead_source"),
            "tags": list(fields.get("tags") or []),
            "addresses": [],
            "created_at": now,
            "updated_at": now,
        }
        self.customers[customer["id"]] = customer
        self._written[customer["id"]] = self.clock()
        return customer

    def _visible(self, record_id: str) -> bool:
        if record_id in self._indexed:
            return True
        written = self._written.get(record_id)
        return (
            written is not None
            and self.search_lag is not None
            and self.clock() - written >= self.search_lag
        )

    def _search(self, query: dict[str, str]) -> Response:
        q = query.get("q", "").strip().lower()
        digits = _digits(q)
        found = []
        for customer in self.customers.values():
            if not self._visible(customer["id"]):
                continue
            text = " ".join(
                str(customer.get(n) or "") for n in ("first_name", "last_name", "email", "company")
            ).lower()
            phones = [_digits(customer.get(n)) for n in PHONES]
            if not q or q in text or (digits and any(digits in p for p in phones if p)):
                found.append(customer)
        return JSONResponse(self._page(found, query, "customers"))

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, str], name: str) -> dict[str, Any]:
        size = max(1, min(int(query.get("page_size", "10") or 10), 100))
        page = max(1, int(query.get("page", "1") or 1))
        total_pages = max(1, -(-len(items) // size))
        return {
            "page": page,
            "page_size": size,
            "total_pages": total_pages,
            "total_items": len(items),
            name: items[(page - 1) * size : page * size],
        }


def housecall_sink(fake: FakeHousecall, **settings: Any) -> dict[str, Any]:
    """A hub.yaml selection of the housecall sink, pointed at ``fake`` with its key."""
    selection: dict[str, Any] = {
        "use": "housecall",
        "api_key": fake.api_key,
        "api_base_url": fake.url,
    }
    selection.update(settings)
    return selection


@pytest.fixture
def fake_housecall() -> Iterator[FakeHousecall]:
    fake = FakeHousecall()
    with fake:
        yield fake
