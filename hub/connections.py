"""HTTP connections from outside, bounded in time and size: how uvicorn serves the hub.

uvicorn starts its keep-alive timer only once a response is complete, and stops it on every byte
received: a connection that never sends a request, or sends its head a byte at a time, stays
open for ever (500 idle connections were once never closed). ``BoundedH11Protocol`` gives every
request head a deadline instead: from the moment the connection opens, and again from the end
of each response, the client has ``timeout_keep_alive`` seconds to send a complete request head,
however it trickles in; then the connection is closed. A request whose head has arrived is
governed by the app (bodies are capped by ``hub.request_body.BodyLimit``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a connection may wait for a complete request head: the first, or the next one.
KEEP_ALIVE_SECONDS = 5
#: The most a request head (request line and headers) may take; h11's default is 16 KiB too,
#: said here so an upgrade of either library cannot raise it silently.
MAX_HEAD_BYTES = 16 * 1024


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for every request head (see the module)."""

    _head_timer: asyncio.TimerHandle | None = None
    #: The request cycle that was current when the timer was armed (``None``: none yet); a
    #: different one means the awaited request head has arrived.
    _armed_for: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is not None and self.cycle is not self._armed_for:
            self._disarm()

    def on_response_complete(self) -> None:
        finished = self.cycle
        super().on_response_complete()
        # Unless a pipelined request already started a new cycle, wait for the next head.
        if self.cycle is finished and not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle
        self._head_timer = self.loop.call_later(self.timeout_keep_alive, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.cycle is not self._armed_for:
            return
        # A state h11 cannot close from cleanly changes nothing: closing is all that is left.
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()


def server_options(keep_alive: int = KEEP_ALIVE_SECONDS) -> dict[str, Any]:
    """uvicorn options for serving the hub (``hub serve`` and ``hub.testing.running_hub``)."""
    return {
        "http": BoundedH11Protocol,
        "timeout_keep_alive": keep_alive,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }
