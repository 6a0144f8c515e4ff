"""CSRF protection: every state-changing request carries the session's token, as the form
field ``csrf_token`` or the ``X-CSRF-Token`` header (for scripted requests).

A pure ASGI middleware: it reads a form's body (bounded) to find the token, then hands the
same bytes on to the app, so handlers read their form as usual.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD = "csrf_token"
HEADER = b"x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
#: Dashboard forms are small; a bigger body is refused before it is read whole.
MAX_BODY = 64 * 1024


def csrf_token(request: Request) -> str:
    """The session's token, made on first use."""
    token = request.session.get(FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return token


class CsrfMiddleware:
    """Refuses (403) an unsafe request whose token is missing or not the session's. Runs
    inside ``SessionMiddleware``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _SAFE:
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get(FIELD)
        headers = dict(scope["headers"])
        given: str | None = None
        if HEADER in headers:
            given = headers[HEADER].decode("latin-1")
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await PlainTextResponse("request too large", 413)(scope, receive, send)
                return
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
        if given is None and content_type == b"application/x-www-form-urlencoded":
            values = parse_qs(body.decode("utf-8", "replace"), max_num_fields=50)
            found = values.get(FIELD)
            given = found[0] if found else None
        if not (isinstance(expected, str) and given and hmac.compare_digest(expected, given)):
            response = PlainTextResponse(
                "the form has expired or did not come from this site: reload and try again", 403
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
        return message

    return receive
