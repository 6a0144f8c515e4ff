"""A client that hangs up halfway through its body is routine on the internet: the hub logs one
WARNING line for it, never an ERROR with a traceback, whatever route it was posting to."""

from __future__ import annotations

import logging

import pytest

from hub.store import tokens
from hub.testing import business, in_process_hub, write_config
from hub.web import create_app

# A webhook, a web form and the API: each reads its body in its own way.
ROUTES = ["/hooks/acme/generic/sms", "/forms/acme", "/api/v1/leads/{lead}/messages"]


def _half_a_body_then_gone():
    messages = [
        {"type": "http.request", "body": b'{"from": "+1555', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        # After the hang-up, every further read says the same, as servers do.
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


@pytest.mark.parametrize("path", ROUTES)
async def test_a_client_gone_mid_body_is_one_warning(hub_dir, caplog, path):
    site = "https://acme.example"
    config = write_config(hub_dir, {"acme": business(forms={"allowed_origins": [site]})})
    async with in_process_hub(config) as kit:
        app = create_app(kit.hub)
        token, _ = await tokens.create("zapier", ["acme"], at=kit.clock.now())
        called = await kit.post_call("acme", caller="+15125550123", to="+15125550100")
        path = path.format(lead=called.json()["lead_id"])
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"hub.test"),
                (b"content-type", b"application/json"),
                (b"content-length", b"400"),
                (b"origin", site.encode()),
                (b"authorization", f"Bearer {token}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("hub.test", 80),
        }
        sent = []

        async def send(message):
            sent.append(message)

        caplog.clear()
        with caplog.at_level(logging.INFO):
            await app(scope, _half_a_body_then_gone(), send)

    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) <= 1
    assert all(m["status"] < 500 for m in starts)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    gone = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.WARNING
    assert path in gone[0].getMessage()
