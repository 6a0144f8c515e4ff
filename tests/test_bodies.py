"""Every route reads at most 64 KiB of a body, as it streams in: chunked or not, the hub
answers 413 on the chunk that crosses the limit and reads no further."""

from __future__ import annotations

import pytest

from hub.request_body import MAX_REQUEST_BODY
from hub.testing import in_process_hub, write_config

ROUTES = [
    "/hooks/acme/generic/call",
    "/hooks/acme/generic/sms",
    "/hooks/acme/generic/sms-status",
    "/forms/acme",
    "/api/v1/leads/1/messages",
]
EARLY_REFUSALS = {"/forms/acme", "/api/v1/leads/1/messages"}


@pytest.mark.parametrize("route", ROUTES)
async def test_a_chunked_body_is_cut_off_at_the_limit(hub_dir, route):
    sent = 0

    async def endless():
        nonlocal sent
        for _ in range(100_000):  # 400 MB, if anyone read it all
            sent += 4096
            yield b"x" * 4096

    async with in_process_hub(write_config(hub_dir)) as running:
        response = await running.client.post(
            route, content=endless(), headers={"Content-Type": "application/json"}
        )
        # A route that refuses before reading (no form here, no token) is as good as a 413.
        assert response.status_code == 413 or (route in EARLY_REFUSALS and response.is_client_error)
        assert sent <= MAX_REQUEST_BODY + 2 * 4096


@pytest.mark.parametrize("route", ROUTES)
async def test_a_declared_length_over_the_limit_is_refused_unread(hub_dir, route):
    async with in_process_hub(write_config(hub_dir)) as running:
        response = await running.client.post(
            route,
            content=b"x" * (MAX_REQUEST_BODY + 1),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
