"""Reading a request body from outside, bounded: the byte that crosses the limit ends the read
(413), so a client cannot make the hub buffer more than the limit, whatever its
``Content-Length`` claims or omits."""

from __future__ import annotations

from starlette.requests import Request


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
