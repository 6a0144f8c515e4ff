"""A hub served by uvicorn on 127.0.0.1: for the few tests that need real HTTP in this
process. Most tests want ``InProcessHub`` instead (no port, no background worker)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hub.runtime import Hub
from hub.testing.config import DEFAULT_SECRET, free_port, signed_call


class HubClient:
    """The webhook helpers both ``RunningHub`` and ``InProcessHub`` offer, over ``client``."""

    client: httpx.AsyncClient

    async def post_call(
        self, business: str = "acme", *, secret: str = DEFAULT_SECRET, **fields: Any
    ) -> httpx.Response:
        """A signed ``generic`` call webhook (``signed_call(**fields)``)."""
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


@dataclass
class RunningHub(HubClient):
    hub: Hub
    url: str
    client: httpx.AsyncClient

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds (the in-process worker runs jobs in the background)."""

        def holds() -> None:
            if not predicate():
                raise AssertionError(f"condition not met within {timeout}s")

        await eventually(holds, timeout)


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Run ``check`` (sync or async) until it stops raising; return its result.

    Only for a hub in another process or thread; an ``InProcessHub`` runs its jobs when told
    (``run_due_jobs``) and needs no waiting.
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
async def running_hub(hub: Hub, *, keep_alive: int | None = None) -> AsyncIterator[RunningHub]:
    """Serve ``hub`` with uvicorn on a free port of 127.0.0.1 for the duration of the block,
    as ``hub serve`` does; ``keep_alive``: seconds an idle connection stays open, if not the
    default (``hub.connections``)."""
    import uvicorn

    from hub.connections import server_options
    from hub.web import create_app

    port = free_port()
    hub.config.public_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        create_app(hub),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        **(server_options() if keep_alive is None else server_options(keep_alive)),
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
