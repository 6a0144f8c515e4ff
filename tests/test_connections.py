"""Connections from outside are bounded: one that never sends a request, or never finishes its
request head, is closed after the keep-alive timeout (uvicorn alone keeps it open for ever), and a
request head over 16 KiB is refused."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from hub.testing import make_hub, running_hub, write_config

KEEP_ALIVE = 1
#: How long a test waits for the server to close: well past the timeout, but bounded.
PATIENCE = 10.0


async def _connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def _closed_after(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    data = await asyncio.wait_for(reader.read(), PATIENCE)  # read() returns at EOF
    return data, time.monotonic() - started


async def test_idle_and_half_sent_connections_are_closed_after_the_timeout(hub_dir):
    hub = make_hub(write_config(hub_dir))
    async with running_hub(hub, keep_alive=KEEP_ALIVE) as served:
        silent = await _connect(served.url)
        half = await _connect(served.url)
        half[1].write(b"GET /healthz HTTP/1.1\r\nHost: hub.test\r\n")  # never finished
        await half[1].drain()
        for reader, writer in (silent, half):
            data, waited = await _closed_after(reader)
            assert data == b""
            assert waited < KEEP_ALIVE + 3
            writer.close()


async def test_a_connection_serves_requests_then_closes_when_idle(hub_dir):
    hub = make_hub(write_config(hub_dir))
    async with running_hub(hub, keep_alive=KEEP_ALIVE) as served:
        reader, writer = await _connect(served.url)
        for _ in range(2):  # the deadline is for each head, not for the connection
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub.test\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), PATIENCE)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        data, _ = await _closed_after(reader)
        assert data == b""
        writer.close()


async def test_a_request_head_over_16_kib_is_refused(hub_dir):
    hub = make_hub(write_config(hub_dir))
    async with running_hub(hub, keep_alive=KEEP_ALIVE) as served:
        reader, writer = await _connect(served.url)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub.test\r\nX-Padding: " + b"a" * 20_000)
        await writer.drain()
        data, _ = await _closed_after(reader)
        assert data.startswith(b"HTTP/1.1 400")
        writer.close()
