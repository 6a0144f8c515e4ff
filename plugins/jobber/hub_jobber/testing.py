"""A fake Jobber for testing the jobber sink, on top of the core's kit (``hub.testing``).

- ``FakeJobber``: Jobber's OAuth endpoints and GraphQL endpoint on 127.0.0.1 (real HTTP, its
  own thread; a ``hub.testing.FakeProviderServer``: ``script(...)`` plays outages first,
  ``requests`` keeps every request).
  ``GET /api/oauth/authorize`` answers as an admin who clicks "Allow Access" (302 to the
  ``redirect_uri`` with ``code`` and ``state``); ``POST /api/oauth/token`` exchanges a code
  once (``redirect_uri`` must match) and refreshes with rotation: each refresh token works
  once, and a rotated one is refused (``invalid_grant``), as are all after ``disconnect()``.
  Access tokens are JWT-shaped (``iat``, ``exp``: an hour). ``POST /api/graphql`` wants the
  bearer token and ``X-JOBBER-GRAPHQL-VERSION``; it serves the queries and mutations the sink
  sends (dispatched by their root field), answers ``extensions.cost`` from a leaky bucket
  (``budget``, restoring ``restore_rate`` a second) and ``THROTTLED`` past it, a client search
  that lags ``search_lag`` seconds behind ``clientCreate``, lost answers
  (``lose_next_answer(field)``: done, but answered 500), and ``userErrors`` for a client
  without a name or phone (or ``refuse_next(message)``).
- ``fake.webhook(hub_url, business, topic, item_id)``: a signed webhook (``WebhookRequest``).
- ``fake.schedule_visit(request_id)`` / ``fake.close_job(job_id)``: what an owner does in Jobber.
- ``jobber_sink(fake, **settings)``: the hub.yaml selection pointed at the fake.
- the ``fake_jobber`` fixture (``pytest_plugins = ["hub.testing", "hub_jobber.testing"]``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hub.testing import FakeProviderServer, RecordedRequest, WebhookRequest

ENCRYPTION_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()  # a Fernet key, for tests only


@dataclass
class FakeRecord:
    id: str
    kind: str
    fields: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)


def jwt_like(lifetime: int = 3600) -> str:
    """A JWT-shaped access token (unsigned: only Jobber can verify Jobber's)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {"iat": now, "exp": now + lifetime, "jti": secrets.token_hex(8)}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_hex(16)}"


class FakeJobber(FakeProviderServer):
    def __init__(
        self,
        *,
        client_id: str = "app-client-id",
        client_secret: str = "app-client-secret",  # noqa: S107 - a test value
        account_id: str = "QWNjb3VudDox",
        search_lag: float = 0.0,
        budget: float = 10000.0,
        restore_rate: float = 500.0,
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.account_id = account_id
        self.search_lag = search_lag
        self.maximum, self.available, self.restore_rate = budget, budget, restore_rate
        self._budget_at = time.monotonic()
        self.codes: dict[str, str] = {}  # code → redirect_uri
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.rotated: set[str] = set()
        self.clients: dict[str, FakeRecord] = {}
        self.requests_made: dict[str, FakeRecord] = {}
        self.jobs: dict[str, FakeRecord] = {}
        self.visits: dict[str, FakeRecord] = {}
        self._refusals: list[str] = []
        self._lost: list[str] = []
        self._ids = 0
        self._state = threading.Lock()

    # -- what tests look at and do ----------------------------------------------------------------

    def authorize(self, authorize_url: str) -> str:
        """Where Jobber sends the admin after "Allow Access": the hub's callback with a code."""
        query = parse_qs(urlsplit(authorize_url).query)
        assert query["client_id"] == [self.client_id], "the authorize URL names another app"
        code = secrets.token_urlsafe(16)
        self.codes[code] = query["redirect_uri"][0]
        return f"{query['redirect_uri'][0]}?{urlencode({'code': code, 'state': query['state'][0]})}"

    def disconnect(self) -> None:
        """The admin pressed Disconnect: every token stops working."""
        with self._state:
            self.access_tokens.clear()
            self.rotated |= self.refresh_tokens
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self._state:
            self.access_tokens.clear()

    def refuse_next(self, message: str) -> None:
        """The next mutation answers 200 with this ``userErrors`` message."""
        self._refusals.append(message)

    def lose_next_answer(self, field: str) -> None:
        """The next query of root ``field`` (``requestCreate``) is carried out, but answered
        500: what a client sees when Jobber's answer is lost."""
        self._lost.append(field)

    def spend(self, points: float) -> None:
        """Another app (or business) of the account used ``points`` of the budget."""
        with self._state:
            self._restore()
            self.available = max(0.0, self.available - points)

    def schedule_visit(self, request_id: str) -> str:
        """The owner converts the request to a job and books its first visit; the visit id."""
        with self._state:
            request = self.requests_made[request_id]
            job = self._add(self.jobs, "Job", {"request": request_id, "status": "upcoming"})
            job.fields["client"] = request.fields["clientId"]
            start = "2026-12-03T15:00:00Z"
            visit = self._add(self.visits, "Visit", {"job": job.id, "startAt": start})
            return visit.id

    def close_job(self, job_id: str) -> None:
        with self._state:
            self.jobs[job_id].fields["status"] = "archived"

    def webhook(self, hub_url: str, business: str, topic: str, item_id: str) -> WebhookRequest:
        """A webhook as Jobber signs it, to the business's route on ``hub_url``."""
        body = json.dumps(
            {
                "data": {
                    "webHookEvent": {
                        "topic": topic,
                        "appId": "3ef22a50-072d-430c-a78f-b7646657560b",
                        "accountId": self.account_id,
                        "itemId": item_id,
                        "occurredAt": "2026-12-02T10:00:00-06:00",
                    }
                }
            }
        ).encode()
        digest = hmac.new(self.client_secret.encode(), body, hashlib.sha256).digest()
        return WebhookRequest(
            "POST",
            f"{hub_url.rstrip('/')}/hooks/{business}/jobber/webhooks",
            {
                "Content-Type": "application/json",
                "X-Jobber-Hmac-SHA256": base64.b64encode(digest).decode(),
            },
            body,
        )

    @property
    def graphql_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/api/graphql")

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/api/oauth/token")

    # -- the endpoints ----------------------------------------------------------------------------

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        if recorded.path == "/api/oauth/authorize" and recorded.method == "GET":
            return RedirectResponse(self.authorize(str(request.url)), 302)
        if recorded.path == "/api/oauth/token" and recorded.method == "POST":
            return self._token(recorded.form)
        if recorded.path == "/api/graphql" and recorded.method == "POST":
            return self._graphql(recorded)
        return JSONResponse({"error": "not found"}, status_code=404)

    def _token(self, form: dict[str, str]) -> Response:
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        with self._state:
            grant = form.get("grant_type")
            if grant == "authorization_code":
                redirect = self.codes.pop(form.get("code", ""), None)
                if redirect is None or redirect != form.get("redirect_uri"):
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
            elif grant == "refresh_token":
                used = form.get("refresh_token", "")
                if used not in self.refresh_tokens:
                    return JSONResponse(
                        {
                            "error": "invalid_grant",
                            "error_description": "The provided refresh token is not valid.",
                        },
                        status_code=401,
                    )
                self.refresh_tokens.discard(used)  # rotation: it works once
                self.rotated.add(used)
            else:
                return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
            access, refresh = jwt_like(), secrets.token_hex(16)
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
        return JSONResponse({"access_token": access, "refresh_token": refresh})

    def _graphql(self, recorded: RecordedRequest) -> Response:
        token = recorded.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        if not recorded.headers.get("x-jobber-graphql-version"):
            return JSONResponse(
                {"errors": [{"message": "X-JOBBER-GRAPHQL-VERSION is required"}]}, status_code=400
            )
        body = recorded.json
        query, variables = body["query"], body.get("variables") or {}
        cost = 12.0 if "mutation" in query else 62.0
        with self._state:
            self._restore()
            if cost > self.available:
                return JSONResponse(
                    {
                        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": self._cost(cost, 0),
                    }
                )
            self.available -= cost
            data = self._resolve(query, variables)
            lost = [name for name in data if name in self._lost]
            if lost:
                self._lost.remove(lost[0])
                return JSONResponse({"message": "Internal Server Error"}, status_code=500)
            return JSONResponse({"data": data, "extensions": self._cost(cost, cost)})

    def _cost(self, requested: float, actual: float) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": round(self.available),
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def _restore(self) -> None:
        now = time.monotonic()
        self.available = min(
            self.maximum, self.available + (now - self._budget_at) * self.restore_rate
        )
        self._budget_at = now

    # -- the schema's slice -----------------------------------------------------------------------

    def _resolve(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        root = re.search(r"\{\s*(\w+)", query)
        name = root.group(1) if root else ""
        if name == "account":
            return {"account": {"id": self.account_id, "name": "Acme Plumbing"}}
        if name == "clients":
            lagging = time.monotonic() - self.search_lag
            digits = re.sub(r"\D", "", v["term"])[-10:]
            nodes = [
                {"id": c.id, "phones": [{"number": p["number"]} for p in c.fields["phones"]]}
                for c in self.clients.values()
                if c.created <= lagging
                and any(re.sub(r"\D", "", p["number"]).endswith(digits) for p in c.fields["phones"])
            ]
            return {"clients": {"nodes": nodes[:10]}}
        if name in {"clientCreate", "requestCreate", "requestCreateNote"} and self._refusals:
            return {name: {"userErrors": [{"message": self._refusals.pop(0), "path": ["input"]}]}}
        if name == "clientCreate":
            given = v["input"]
            if not given.get("firstName") or not given.get("phones"):
                return {
                    name: {
                        "client": None,
                        "userErrors": [{"message": "Name can't be blank", "path": ["firstName"]}],
                    }
                }
            client = self._add(self.clients, "Client", given)
            return {
                name: {
                    "client": {"id": client.id, "jobberWebUri": self._uri(client)},
                    "userErrors": [],
                }
            }
        if name == "client":
            client_id = v["id"]
            nodes = [
                {"id": r.id, "title": r.fields["title"], "jobberWebUri": self._uri(r)}
                for r in self.requests_made.values()
                if r.fields["clientId"] == client_id
            ]
            return {
                "client": {"requests": {"nodes": nodes[:20]}} if client_id in self.clients else None
            }
        if name == "requestCreate":
            given = v["input"]
            if given.get("clientId") not in self.clients:
                return {
                    name: {
                        "request": None,
                        "userErrors": [{"message": "Client not found", "path": ["clientId"]}],
                    }
                }
            request = self._add(self.requests_made, "Request", {**given, "status": "new"})
            return {
                name: {
                    "request": {
                        "id": request.id,
                        "title": given["title"],
                        "jobberWebUri": self._uri(request),
                    },
                    "userErrors": [],
                }
            }
        if name == "requestCreateNote":
            noted = self.requests_made.get(v["requestId"])
            if noted is None:
                return {
                    name: {
                        "requestNote": None,
                        "userErrors": [{"message": "Request not found", "path": ["requestId"]}],
                    }
                }
            noted.notes.append(v["input"]["message"])
            return {name: {"requestNote": {"id": f"note-{len(noted.notes)}"}, "userErrors": []}}
        if name == "request":
            found = self.requests_made.get(v["id"])
            if found is None:
                return {"request": None}
            return {
                "request": {
                    "id": found.id,
                    "requestStatus": found.fields["status"],
                    "assessment": None,
                    "client": {"id": found.fields["clientId"]},
                    "notes": {
                        "nodes": [
                            {"id": f"note-{i}", "message": m} for i, m in enumerate(found.notes)
                        ]
                    },
                }
            }
        if name == "visit":
            seen = self.visits.get(v["id"])
            if seen is None:
                return {"visit": None}
            job = self.jobs[seen.fields["job"]]
            return {
                "visit": {
                    "id": seen.id,
                    "startAt": seen.fields["startAt"],
                    "isComplete": False,
                    "job": {
                        "id": job.id,
                        "request": {"id": job.fields["request"]},
                        "client": {"id": job.fields["client"]},
                    },
                }
            }
        if name == "job":
            asked = self.jobs.get(v["id"])
            if asked is None:
                return {"job": None}
            return {
                "job": {
                    "id": asked.id,
                    "jobStatus": asked.fields["status"],
                    "request": {"id": asked.fields["request"]},
                    "client": {"id": asked.fields["client"]},
                }
            }
        raise ValueError(f"the fake Jobber does not serve {name!r}")

    def _add(self, table: dict[str, FakeRecord], kind: str, fields: dict[str, Any]) -> FakeRecord:
        self._ids += 1
        record = FakeRecord(
            base64.b64encode(f"{kind}:{self._ids}".encode()).decode(), kind, dict(fields)
        )
        table[record.id] = record
        return record

    @staticmethod
    def _uri(record: FakeRecord) -> str:
        return f"https://secure.getjobber.com/{record.kind.lower()}s/{record.id}"


def jobber_sink(fake: FakeJobber, **settings: Any) -> dict[str, Any]:
    """The hub.yaml selection of the sink, pointed at ``fake``, hearing what a CRM hears."""
    return {
        "use": "jobber",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "encryption_key": ENCRYPTION_KEY,
        "api_base_url": fake.url,
        "on": ["lead.created", "lead.updated", "lead.status_changed", "message.received"],
        **settings,
    }


async def connect(client: httpx.AsyncClient, fake: FakeJobber, connect_url: str) -> httpx.Response:
    """The whole connect flow as an admin's browser makes it: the hub's connect link, Jobber's
    authorize page ("Allow Access"), and back to the hub's callback."""
    start = await client.get(connect_url)
    assert start.status_code == 302, start.text
    return await client.get(fake.authorize(start.headers["location"]))


@pytest.fixture
def fake_jobber() -> Iterator[FakeJobber]:
    from hub_jobber import throttle

    throttle.forget()
    fake = FakeJobber()
    with fake:
        yield fake
