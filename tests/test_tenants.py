"""Tenants kept apart in the core: provider event ids and plugin marks belong to one business."""

from __future__ import annotations

import json

from hub.defaults.generic import SIGNATURE_HEADER, sign
from hub.models import Message
from hub.testing import business, in_process_hub, write_config

BETA_SECRET = "beta-secret-9876543210"


def _two_tenants(hub_dir):
    beta = business("Beta Electric", ["+15125550200"], secret=BETA_SECRET)
    return write_config(hub_dir, {"acme": business(), "beta": beta})


def _sms(secret: str, to: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": "gw-1", "from": "+15125550123", "to": to, "text": "hi"}).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


async def test_one_businesss_event_id_does_not_dedupe_anothers(hub_dir):
    from hub.testing import DEFAULT_SECRET

    async with in_process_hub(_two_tenants(hub_dir)) as running:
        body, headers = _sms(DEFAULT_SECRET, "+15125550100")
        assert (
            await running.client.post("/hooks/acme/generic/sms", content=body, headers=headers)
        ).status_code == 200
        body, headers = _sms(BETA_SECRET, "+15125550200")
        assert (
            await running.client.post("/hooks/beta/generic/sms", content=body, headers=headers)
        ).status_code == 200
        assert sorted(m.business for m in await Message.filter(direction="in")) == ["acme", "beta"]


async def test_a_plugins_marks_belong_to_one_business(hub_dir):
    async with in_process_hub(_two_tenants(hub_dir)) as running:
        acme = running.hub.providers["acme"].call_source.context
        beta = running.hub.providers["beta"].call_source.context
        assert await acme.mark("owner-answered:CA1")
        assert not await acme.mark("owner-answered:CA1")
        assert not await beta.is_marked("owner-answered:CA1")
        assert await beta.mark("owner-answered:CA1")
        long_key = "x" * 400
        assert await acme.mark(long_key) and await acme.is_marked(long_key)
        assert not await acme.is_marked(long_key[:-1] + "y")  # hashed whole, never cut
