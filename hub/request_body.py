"""Reading a request body from outside, bounded: the byte that crosses the limit ends the read
(413), so a client cannot make the hub buffer more than the limit, whatever its
``Content-Length`` claims or omits."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hub.web")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit // 1024} KiB")
        self.limit = limit


async def read_limited(request: Request, limit: int) -> bytes:
    """The request's body, or ``BodyTooLarge`` as soon as it is longer than ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


#: The most any request to the hub may carry: webhooks, forms and API calls are all small.
MAX_REQUEST_BODY = 64 * 1024


class BodyLimit:
    """ASGI middleware: no route reads more than ``limit`` bytes of a body, chunked or not.

    A declared ``Content-Length`` over the limit is answered 413 before the app runs. Otherwise
    the app's ``receive`` raises ``BodyTooLarge`` on the chunk that crosses the limit, which the
    app's exception handler answers 413: nothing past the limit is ever buffered, however the
    route reads its body (a plugin's ``request.body()``, ``form()``, ``stream()``...).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_REQUEST_BODY,
        answer: Callable[[str, int], Response] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        #: The 413 for a path (the API answers in its own error shape).
        self.answer = answer or (lambda path, limit: too_large(limit))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self.answer(scope.get("path", ""), limit)(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def too_large(limit: int) -> Response:
    return PlainTextResponse(f"the body is larger than {limit // 1024} KiB", status_code=413)


async def client_gone(request: Request, exc: Exception) -> Response:
    """The exception handler for ``ClientDisconnect``, for every Starlette app of the hub (a
    mounted app answers an unhandled exception itself, so each registers it).

    A client that hangs up mid-body is routine on the internet, not a fault of the hub: one
    line, no traceback. The answer reaches no one; 400 keeps it out of the 5xx counts."""
    assert isinstance(exc, ClientDisconnect)
    log.warning("client disconnected mid-body: %s %s", request.method, request.url.path)
    return PlainTextResponse("the client disconnected", status_code=400)
