"""Test helpers for the chat sinks, on top of the core's kit (``hub.testing``): a fake of each
service's incoming webhook on 127.0.0.1 (real HTTP, its own thread), speaking its wire format.

- ``FakeSlack``: ``200 ok`` as text/plain; ``fail_next("channel_is_archived")`` answers one of
  Slack's plain-text error codes with its status; ``rate_limit(seconds)`` a 429 with
  ``Retry-After``; a body without ``text`` or ``blocks`` is ``400 no_text``.
- ``FakeDiscord``: ``/api/webhooks/{id}/{token}``; with ``?wait=true`` 200 and the created
  message's JSON, else 204; ``unknown_webhook()`` (404 ``{"message": "Unknown Webhook",
  "code": 10015}``), ``rate_limit(1.5)`` (429 ``{"message", "retry_after", "global"}``); an
  empty message is 400 code 50006.
- ``FakeTeams``: a Workflows trigger: 202 Accepted for a ``message`` with an Adaptive Card;
  400 ``{"error": {"code", "message"}}`` for anything else; ``not_found()``, ``rate_limit()``.
- Each keeps the messages it accepted (``messages``) and counts them by the ``ref`` the sinks
  show (``copies_of(event_id)``); ``server_error()`` plays a 503 once.
- fixtures ``fake_slack``, ``fake_discord``, ``fake_teams``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from hub.testing import FakeProviderServer, RecordedRequest

SLACK_STATUS = {
    "invalid_payload": 400,
    "no_text": 400,
    "invalid_token": 403,
    "action_prohibited": 403,
    "posting_to_general_channel_denied": 403,
    "no_service": 404,
    "no_service_id": 400,
    "no_team": 404,
    "team_disabled": 404,
    "channel_not_found": 404,
    "channel_is_archived": 410,
}


class FakeChat(FakeProviderServer):
    """What the three fakes share: queued failures in the service's format, the messages
    accepted, counted by the ``ref`` in them."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Any] = []
        self._failures: list[Response] = []
        self._failure_lock = threading.Lock()

    def fail_with(self, response: Response) -> None:
        with self._failure_lock:
            self._failures.append(response)

    def server_error(self) -> None:
        self.fail_with(PlainTextResponse("upstream connect error", status_code=503))

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        with self._failure_lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return failure
        try:
            body = recorded.json
        except ValueError:
            return self.invalid("the body is not JSON")
        problem = self.check(body)
        if problem:
            return self.invalid(problem)
        self.messages.append(body)
        return self.accepted(request, body)

    def check(self, body: Any) -> str | None:
        return None

    def invalid(self, why: str) -> Response:
        raise NotImplementedError

    def accepted(self, request: Request, body: Any) -> Response:
        raise NotImplementedError

    def copies_of(self, event_id: str) -> int:
        return sum(f"ref {event_id}" in json.dumps(body) for body in self.messages)


class FakeSlack(FakeChat):
    def fail_next(self, code: str) -> None:
        self.fail_with(PlainTextResponse(code, status_code=SLACK_STATUS.get(code, 400)))

    def rate_limit(self, seconds: int = 30) -> None:
        self.fail_with(
            PlainTextResponse(
                "rate_limited", status_code=429, headers={"Retry-After": str(seconds)}
            )
        )

    def check(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return "no_text"
        if "blocks" in body and not isinstance(body["blocks"], list):
            return "invalid_blocks_format"
        return None

    def invalid(self, why: str) -> Response:
        return PlainTextResponse(why if why != "the body is not JSON" else "invalid_payload", 400)

    def accepted(self, request: Request, body: Any) -> Response:
        return PlainTextResponse("ok")


class FakeDiscord(FakeChat):
    def webhook_url(self, webhook_id: str = "1234567890", token: str = "t0ken") -> str:  # noqa: S107
        return f"{self.url}/api/webhooks/{webhook_id}/{token}"

    def unknown_webhook(self) -> None:
        self.fail_with(JSONResponse({"message": "Unknown Webhook", "code": 10015}, 404))

    def rate_limit(self, retry_after: float = 1.5, *, global_: bool = False) -> None:
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global_,
        }
        headers = {
            "Retry-After": str(int(retry_after) + 1),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        self.fail_with(JSONResponse(body, 429, headers=headers))

    def check(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not (body.get("content") or body.get("embeds")):
            return "Cannot send an empty message"
        if len(body.get("content") or "") > 2000:
            return "content: Must be 2000 or fewer in length."
        return None

    def invalid(self, why: str) -> Response:
        return JSONResponse({"message": why, "code": 50006}, 400)

    def accepted(self, request: Request, body: Any) -> Response:
        if request.query_params.get("wait") != "true":
            return Response(status_code=204)
        message = {
            "id": str(1_100_000_000_000_000_000 + len(self.messages)),
            "type": 0,
            "channel_id": "1000",
            "content": body.get("content", ""),
            "embeds": body.get("embeds", []),
            "webhook_id": request.url.path.split("/")[3],
        }
        return JSONResponse(message)


class FakeTeams(FakeChat):
    def not_found(self) -> None:
        self.fail_with(
            JSONResponse({"error": {"code": "WorkflowNotFound", "message": "not found"}}, 404)
        )

    def rate_limit(self, seconds: int = 10) -> None:
        body = {"error": {"code": "WorkflowTriggerIsThrottled", "message": "throttled"}}
        self.fail_with(JSONResponse(body, 429, headers={"Retry-After": str(seconds)}))

    def check(self, body: Any) -> str | None:
        try:
            (attachment,) = body["attachments"]
            card = attachment["content"]
            ok = (
                body["type"] == "message"
                and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
                and card["type"] == "AdaptiveCard"
                and tuple(map(int, card["version"].split("."))) >= (1, 4)
                and isinstance(card["body"], list)
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            ok = False
        return None if ok else "the body is not a message with one Adaptive Card 1.4+"

    def invalid(self, why: str) -> Response:
        return JSONResponse({"error": {"code": "InvalidRequestContent", "message": why}}, 400)

    def accepted(self, request: Request, body: Any) -> Response:
        return Response(status_code=202)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    with fake:
        yield fake


@pytest.fixture
def fake_discord() -> Iterator[FakeDiscord]:
    fake = FakeDiscord()
    with fake:
        yield fake


@pytest.fixture
def fake_teams() -> Iterator[FakeTeams]:
    fake = FakeTeams()
    with fake:
        yield fake
