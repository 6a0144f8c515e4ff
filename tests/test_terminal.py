"""Customer words reach a terminal escaped: no escape sequence, bell, C1 control, bidi override
or forged line from a text gets through `hub leads show` / `hub leads list`."""

from __future__ import annotations

import asyncio
import json

from hub.defaults.generic import SIGNATURE_HEADER, sign
from hub.testing import DEFAULT_SECRET, business, in_process_hub, run_cli, write_config
from hub.text import terminal_safe

HOSTILE = "hi\x1b]0;pwned\x07 \x1b[2J\x9b2J \u202eevil\nFAKE 2026-01-01 -> [sent] ok"


def test_terminal_safe_escapes_every_control_and_keeps_words():
    assert terminal_safe("Dana, 78704 — café ✓") == "Dana, 78704 — café ✓"
    shown = terminal_safe(HOSTILE)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in shown)
    assert "\\x1b" in shown and "\\x07" in shown and "\\u202e" in shown and "\\n" in shown


async def test_leads_show_and_list_print_customer_text_escaped(hub_dir):
    # Plugins the CLI loads too (the memory ones live in the test process only).
    settings = business(sms_sender={"use": "console"}, sinks=[{"use": "log"}])
    config = write_config(hub_dir, {"acme": settings})
    async with in_process_hub(config) as running:
        await running.post_call(id="c1", caller="+15125550123")
        text = {"id": "t1", "from": "+15125550123", "to": "+15125550100", "text": HOSTILE}
        body = json.dumps(text).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(DEFAULT_SECRET, body)}
        response = await running.client.post(
            "/hooks/acme/generic/sms", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
    shown = await asyncio.to_thread(run_cli, "leads", "show", "1", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert "\\x1b]0;pwned\\x07" in shown.stdout
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in shown.stdout
    assert not any(line.startswith("FAKE") for line in shown.stdout.splitlines())
    listed = await asyncio.to_thread(run_cli, "leads", "list", "--config", str(config))
    assert listed.returncode == 0 and "\x1b" not in listed.stdout
