"""A test kit for the hub and its plugins, shipped with the hub (as tox ships ``tox.pytest``).

Opt in from a ``conftest.py``::

    pytest_plugins = ["hub.testing"]

What it gives a plugin author:

- ``business(...)`` / ``write_config(...)``: a working hub.yaml in a temporary directory;
- ``running_hub(...)``: a real hub served by uvicorn on 127.0.0.1 (real HTTP, a real SQLite
  file), with an ``httpx.AsyncClient`` pointed at it;
- ``FakeProviderServer``: the base for a fake provider API (real HTTP on 127.0.0.1 in its own
  thread, so synchronous SDKs can call it too) that records requests and plays scripted
  responses: status codes, delays, error bodies;
- ``MemorySender`` / ``MemorySink``: a sender and a sink that keep what they were given, as
  the ``memory`` plugin (``extra_plugins=[hub.testing.memory_plugin]``);
- ``signed_call(...)``: a correctly signed ``generic`` call webhook.
- fixtures ``hub_dir`` (a temporary directory for hub.yaml) and ``memory``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.clock import Clock
from hub.defaults.generic import SIGNATURE_HEADER, sign
from hub.hookspecs import hookimpl
from hub.plugins import load_plugins
from hub.providers import Sink, SmsSender
from hub.runtime import Hub
from hub.types import (
    DeliveryReport,
    DeliveryResult,
    InboundSms,
    KeywordIntent,
    MessageStatus,
    Notification,
    OutboundSms,
    RecipientIssue,
    SendResult,
)

DEFAULT_SECRET = "test-secret-0123456789"  # noqa: S105 - a test fixture's secret


# -- configuration --------------------------------------------------------------------------------


def business(
    name: str = "Acme Plumbing",
    numbers: Sequence[str] = ("+15125550100",),
    *,
    secret: str = DEFAULT_SECRET,
    hours: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Settings for one business: open around the clock, generic calls, memory sender and sink
    (pass ``sms_sender=`` / ``sinks=`` / ``hours=`` to change them). Quiet hours are off, so a
    test does not depend on the hour it runs at; pass ``quiet_hours={}`` to test them."""
    settings: dict[str, Any] = {
        "name": name,
        "timezone": "America/Chicago",
        "numbers": list(numbers),
        "hours": hours if hours is not None else {"mon-sun": "00:00-24:00"},
        "owner": {"name": "Owner", "email": "owner@example.com"},
        "call_source": {"use": "generic", "secret": secret},
        "sms_sender": {"use": "memory"},
        "sinks": [{"use": "memory"}],
        "quiet_hours": {"enabled": False},
    }
    settings.update(overrides)
    return settings


def write_config(
    directory: Path, businesses: dict[str, dict[str, Any]] | None = None, **top: Any
) -> Path:
    """Write hub.yaml into ``directory``; ``top`` sets top-level keys (``database``...)."""
    data: dict[str, Any] = {"database": "sqlite://hub.sqlite3", "worker": {"poll_interval": 0.05}}
    data.update(top)
    data["businesses"] = businesses if businesses is not None else {"acme": business()}
    path = directory / "hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# -- the memory plugin ----------------------------------------------------------------------------


@dataclass
class MemoryOutbox:
    """What the memory sender and sink were given, and what they should answer next."""

    texts: list[OutboundSms] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    #: Results the sender returns, in order, before it goes back to "sent".
    send_results: list[SendResult] = field(default_factory=list)
    delivery_results: list[DeliveryResult] = field(default_factory=list)
    sent_event: asyncio.Event | None = None

    def clear(self) -> None:
        self.texts.clear()
        self.notifications.clear()
        self.send_results.clear()
        self.delivery_results.clear()


#: Shared by every ``MemorySender``/``MemorySink``; the ``memory`` fixture clears it.
outbox = MemoryOutbox()


class MemorySender(SmsSender):
    """Keeps texts in memory. Its routes take unsigned JSON (test use only):
    ``POST /hooks/{business}/memory/sms`` ``{"id", "from", "to", "body", "keyword"?}`` and
    ``POST /hooks/{business}/memory/status`` ``{"id", "status", "error_code"?, "issue"?}``."""

    name = "memory"
    description = "Keeps texts in memory (tests)"

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/sms", self.inbound, methods=["POST"]),
            Route("/status", self.status, methods=["POST"]),
        ]

    async def inbound(self, request: Request) -> Response:
        data = await request.json()
        keyword = KeywordIntent(data["keyword"]) if data.get("keyword") else None
        await self.context.receive_sms(
            InboundSms(data["id"], data["from"], data["to"], data["body"], provider_keyword=keyword)
        )
        return Response(status_code=204)

    async def status(self, request: Request) -> Response:
        data = await request.json()
        issue = RecipientIssue(data["issue"]) if data.get("issue") else None
        await self.context.receive_delivery_report(
            DeliveryReport(data["id"], MessageStatus(data["status"]), data.get("error_code"), issue)
        )
        return Response(status_code=204)

    async def send(self, sms: OutboundSms) -> SendResult:
        if outbox.send_results:
            return outbox.send_results.pop(0)
        outbox.texts.append(sms)
        return SendResult.sent(f"mem-{sms.reference}-{len(outbox.texts)}")


class MemorySink(Sink):
    name = "memory"
    description = "Keeps notifications in memory (tests)"

    async def deliver(self, notification: Notification) -> DeliveryResult:
        if outbox.delivery_results:
            return outbox.delivery_results.pop(0)
        outbox.notifications.append(notification)
        return DeliveryResult.delivered(f"mem-{len(outbox.notifications)}")


class memory_plugin:
    """Registers ``MemorySender`` and ``MemorySink`` as ``memory``."""

    @staticmethod
    @hookimpl
    def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
        register(MemorySender)

    @staticmethod
    @hookimpl
    def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
        register(MemorySink)


def make_hub(
    config_path: Path, *, extra_plugins: Iterable[object] = (), clock: Clock | None = None
) -> Hub:
    """A hub on ``config_path`` with the installed plugins plus ``memory`` and ``extra_plugins``."""
    plugins = load_plugins(extra=[memory_plugin, *extra_plugins])
    return Hub.from_path(config_path, plugins=plugins, clock=clock)


# -- a running hub --------------------------------------------------------------------------------


@dataclass
class RunningHub:
    hub: Hub
    url: str
    client: httpx.AsyncClient

    async def post_call(
        self, business: str = "acme", *, secret: str = DEFAULT_SECRET, **fields: Any
    ) -> httpx.Response:
        body, headers = signed_call(secret, **fields)
        return await self.client.post(
            f"/hooks/{business}/generic/call", content=body, headers=headers
        )

    async def text_in(
        self,
        body: str,
        *,
        caller: str = "+15125550123",
        to: str = "+15125550100",
        business: str = "acme",
        message_id: str | None = None,
        keyword: str | None = None,
    ) -> httpx.Response:
        """A customer's text, through the memory sender's inbound route."""
        data = {
            "id": message_id or f"in-{uuid.uuid4().hex[:10]}",
            "from": caller,
            "to": to,
            "body": body,
            "keyword": keyword,
        }
        return await self.client.post(f"/hooks/{business}/memory/sms", json=data)

    async def status_in(
        self,
        provider_id: str,
        status: str,
        *,
        error_code: str | None = None,
        issue: str | None = None,
        business: str = "acme",
    ) -> httpx.Response:
        """A delivery report, through the memory sender's status route."""
        data = {"id": provider_id, "status": status, "error_code": error_code, "issue": issue}
        return await self.client.post(f"/hooks/{business}/memory/status", json=data)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds (the in-process worker runs jobs in the background)."""

        def holds() -> None:
            if not predicate():
                raise AssertionError(f"condition not met within {timeout}s")

        await eventually(holds, timeout)


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Run ``check`` (sync or async) until it stops raising; return its result.

    The hub's worker runs jobs in the background, so what a test waits for (a text sent, a
    delivery recorded) shows up a few milliseconds after the webhook's response.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            return result
        except Exception:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_hub(hub: Hub) -> AsyncIterator[RunningHub]:
    """Serve ``hub`` with uvicorn on a free port of 127.0.0.1 for the duration of the block."""
    from hub.web import create_app

    port = free_port()
    hub.config.public_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        create_app(hub), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the hub exited during startup")
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=hub.config.public_url, timeout=10) as client:
            yield RunningHub(hub, hub.config.public_url, client)
    finally:
        server.should_exit = True
        await task


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_call(secret: str = DEFAULT_SECRET, **fields: Any) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a signed ``generic`` call webhook. Defaults: a missed call from
    +15125550123 to +15125550100 with a random id."""
    data = {
        "id": f"call-{uuid.uuid4().hex[:10]}",
        "from": "+15125550123",
        "to": "+15125550100",
        "outcome": "missed",
    }
    data.update({("from" if key == "caller" else key): value for key, value in fields.items()})
    body = json.dumps(data).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


# -- fake provider servers ------------------------------------------------------------------------


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
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "PUT", "DELETE"])]
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


# -- PostgreSQL ------------------------------------------------------------------------------------

#: The server throwaway test databases are made on.
POSTGRES_SERVER = os.environ.get("HUB_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres", timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database on ``$HUB_TEST_POSTGRES`` for the block, dropped after; the
    test is skipped, saying why, when no server answers. Call it outside the event loop."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError) as exc:
        pytest.skip(
            f"no PostgreSQL server reachable at {POSTGRES_SERVER} ({exc}); set HUB_TEST_POSTGRES"
        )
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- pytest fixtures ------------------------------------------------------------------------------


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    """A temporary directory for a hub.yaml and its SQLite file."""
    return tmp_path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL database (skips when no server answers)."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def memory() -> Iterator[MemoryOutbox]:
    """The memory sender's and sink's outbox, emptied before and after the test."""
    outbox.clear()
    yield outbox
    outbox.clear()
