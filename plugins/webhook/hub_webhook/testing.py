"""Test helpers for the ``webhook`` sink, on top of the core's kit (``hub.testing``).

- ``FakeReceiver``: a webhook receiver on 127.0.0.1 (real HTTP, its own thread) that answers
  as receivers do (204 No Content), keeps every request it accepts as a naive receiver would
  (a repeat shows up twice), and plays scripted answers first: ``ScriptedResponse(status=503,
  headers={"Retry-After": "30"})``, ``fake.gone()`` (410), ``fake.redirect(url)`` (307),
  ``fake.answer_late(seconds)`` (keeps the POST, answers after the sender gave up).
- ``new_secret()``: a fresh ``whsec_`` secret, as a receiver would show it.
- the ``fake_receiver`` fixture (``pytest_plugins = ["hub.testing", "hub_webhook.testing"]``).

Check signatures with an independent implementation (the ``standardwebhooks`` package), not
with this plugin's own ``sign``.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from hub.testing import FakeProviderServer, RecordedRequest, ScriptedResponse


def new_secret(size: int = 32) -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of ``size`` random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(size)).decode()


class FakeReceiver(FakeProviderServer):
    """A webhook receiver: 204 for every POST it keeps; ``kept`` holds them, oldest first."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[RecordedRequest] = []
        self._slow: list[float] = []

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        self.kept.append(recorded)
        if self._slow:  # the work is done, the answer comes too late: the sender's retry
            await asyncio.sleep(self._slow.pop(0))  # will carry the same webhook-id
        return Response(status_code=204)

    def answer_late(self, seconds: float) -> None:
        """Keep the next POST, then answer after ``seconds``: past the sender's timeout, the
        sender never hears it was taken (a lost answer)."""
        self._slow.append(seconds)

    def gone(self) -> None:
        """The next answer is 410 Gone: the receiver asks the sender to stop for good."""
        self.script(ScriptedResponse(status=410, body={"error": "endpoint removed"}))

    def redirect(self, location: str, status: int = 307) -> None:
        self.script(ScriptedResponse(status=status, body={}, headers={"Location": location}))

    def copies_of(self, message_id: str) -> int:
        """How many POSTs with this ``webhook-id`` the receiver kept."""
        return sum(request.headers.get("webhook-id") == message_id for request in self.kept)

    @property
    def bodies(self) -> list[Any]:
        return [request.json for request in self.kept]


@pytest.fixture
def fake_receiver() -> Iterator[FakeReceiver]:
    fake = FakeReceiver()
    with fake:
        yield fake
