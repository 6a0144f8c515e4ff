"""Fake provider APIs and the shapes every provider's test kit shares.

A provider plugin's kit (``hub_twilio.testing``, ``hub_vonage.testing``) offers the same three
things under the same names:

- ``Fake<Provider>``: its API on 127.0.0.1, a ``FakeProviderApi`` (real HTTP in a thread of its
  own, so synchronous SDKs can call it) that records requests, plays scripted answers, and
  lists the texts it accepted as ``SentSms`` (``fake.sent``);
- ``signed_webhook(route, payload, ...)``: one webhook signed as the provider signs it, a
  ``WebhookRequest`` to ``send`` with any ``httpx.AsyncClient``;
- ``CallDriver(client)``: plays the provider's side of whole calls and texts against a hub
  (``missed_call``, ``answered_call``, ``reply``, ``delivery_report``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.testing.config import free_port

#: The caller a ``CallDriver`` uses unless told otherwise.
CALLER = "+15125550123"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ScriptedResponse:
    status: int = 200
    body: Any = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class FakeProviderServer:
    """Base for a fake provider API on 127.0.0.1, served by uvicorn in a thread of its own.

    Subclasses implement ``handle(request, recorded)`` for the provider's wire format; tests
    queue ``script(...)`` responses (a status and body, or a delay) that take precedence, in
    order. Every request is kept in ``requests``; ``received`` is set on each one.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: list[ScriptedResponse] = []
        self._lock = threading.Lock()
        self.received = threading.Event()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = Starlette(
            # PATCH too: REST APIs (HubSpot's) update records with it.
            routes=[
                Route(
                    "/{path:path}",
                    self._endpoint,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ]
        )
        self._server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self._thread: threading.Thread | None = None

    def script(self, *responses: ScriptedResponse) -> None:
        with self._lock:
            self._script.extend(responses)

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path_part in r.path]

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        return JSONResponse({})

    async def _endpoint(self, request: Request) -> Response:
        recorded = RecordedRequest(
            request.method,
            request.url.path,
            dict(request.query_params),
            dict(request.headers),
            await request.body(),
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = self._script.pop(0) if self._script else None
        self.received.set()
        if scripted is not None:
            if scripted.delay:
                await asyncio.sleep(scripted.delay)
            if scripted.body is not None or scripted.status != 200:
                return JSONResponse(
                    scripted.body, status_code=scripted.status, headers=scripted.headers
                )
        return await self.handle(request, recorded)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.run, daemon=True, name=type(self).__name__
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeProviderServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass(frozen=True)
class SentSms:
    """A text a fake API accepted, in the hub's terms (numbers in E.164)."""

    to: str
    sender: str | None
    body: str
    provider_id: str


class FakeProviderApi(FakeProviderServer):
    """A fake SMS provider API: ``sent`` lists the texts it accepted, oldest first."""

    @property
    def sent(self) -> list[SentSms]:
        raise NotImplementedError


@dataclass(frozen=True)
class WebhookRequest:
    """One webhook as a provider would send it; ``send`` it with any ``httpx.AsyncClient``."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.request(
            self.method, self.url, headers=self.headers, content=self.content
        )

    def with_headers(self, **headers: str) -> WebhookRequest:
        return WebhookRequest(self.method, self.url, {**self.headers, **headers}, self.content)


@dataclass
class CallTrace:
    """What happened on the wire during one driven call."""

    call_id: str
    responses: list[httpx.Response] = field(default_factory=list)


class CallDriver:
    """Plays one provider's side of calls and texts against a hub, through ``client`` (an
    ``InProcessHub``'s or a ``RunningHub``'s). Each provider kit subclasses it with the same
    methods, so a provider-neutral test drives either."""

    #: The provider's plugin name (``twilio``, ``vonage``).
    provider: str = ""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def missed_call(
        self, caller: str | None = CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """A call nobody took: the caller is to be texted back."""
        raise NotImplementedError

    async def answered_call(
        self, caller: str | None = CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """A call the owner took: no text."""
        raise NotImplementedError

    async def voicemail(
        self, caller: str | None = CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """A call nobody took, on which the caller left a voicemail."""
        raise NotImplementedError

    async def transcript(self, call_id: str, text: str) -> httpx.Response:
        """The provider's transcript of the voicemail left on ``call_id`` (``voicemail``)."""
        raise NotImplementedError

    async def reply(self, caller: str, text: str) -> httpx.Response:
        """The caller texts the business."""
        raise NotImplementedError

    async def delivery_report(self, text: SentSms, status: str = "delivered") -> httpx.Response:
        """The provider's delivery report for a text its fake accepted."""
        raise NotImplementedError


def texts_to(sent: Sequence[SentSms], number: str) -> list[SentSms]:
    return [text for text in sent if text.to == number]
