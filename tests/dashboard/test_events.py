"""``/events`` over real HTTP (uvicorn): news of the user's own businesses, and only those."""

from __future__ import annotations

import asyncio
import json

import httpx

from hub.testing import make_hub, running_hub
from hub.testing.memory import MemoryOutbox

from .helpers import add_users, sign_in, two_businesses


async def next_lead_event(lines, timeout: float = 5.0) -> int:
    async def read() -> int:
        async for line in lines:
            if line.startswith("data: "):
                return int(json.loads(line[6:])["id"])
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), timeout)


async def test_events_tell_of_new_leads_and_replies_of_the_users_businesses(hub_dir):
    hub = make_hub(two_businesses(hub_dir), outbox=MemoryOutbox())
    async with running_hub(hub) as running:
        await add_users()
        await sign_in(running.client, "owner@acme.example")
        async with running.client.stream("GET", "/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            # Another business's call says nothing here; ours does.
            await running.post_call("bravo", caller="+15125550124", to="+15125550200")
            await running.post_call("acme", caller="+15125550123")
            first = await next_lead_event(lines)
            acme = await running.hub.reads.lead(first)
            assert acme is not None and acme.business == "acme"
            await running.text_in("my drain is clogged", caller="+15125550123")
            assert await next_lead_event(lines) == first


async def test_events_need_sign_in(hub_dir):
    hub = make_hub(two_businesses(hub_dir), outbox=MemoryOutbox())
    async with running_hub(hub) as running:
        response = await running.client.get("/events")
        assert response.status_code == 303
        async with httpx.AsyncClient(base_url=running.url) as other:
            assert (await other.get("/events", follow_redirects=True)).url.path == "/login"
