"""The chat sinks in a whole hub: a missed call and a reply reach each service as messages
with the lead's fields and the customer's words, escaped, each event once."""

from __future__ import annotations

import json

import pytest

from hub.testing import business, in_process_hub, write_config

REPLY = "Dana here, kitchen sink clogged, zip 78704 <!channel> @everyone <img src=x>"


#: How the reply's dangerous part reads in each service's markup: as text.
ESCAPED = {
    "slack": "&lt;!channel&gt; @everyone &lt;img src=x&gt;",
    "discord": "\\<\\!channel\\> @\u200beveryone \\<img src=x\\>",
    "teams": "<\\!channel\\> @everyone <img src=x\\>",  # cards render no HTML
}


def leaves(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)


@pytest.mark.parametrize("service", ["slack", "discord", "teams"])
async def test_a_missed_call_and_a_reply_reach_the_channel(
    hub_dir, service, fake_slack, fake_discord, fake_teams
):
    fake = {"slack": fake_slack, "discord": fake_discord, "teams": fake_teams}[service]
    url = fake.webhook_url() if service == "discord" else f"{fake.url}/hook"
    sink = {
        "use": service,
        "url": url,
        "allow_private": True,
        "lead_url": "https://crm.example.com/l/{id}",
    }
    fake.server_error()  # the first post meets an outage: retried, still one message
    config = write_config(hub_dir, {"acme": business(sinks=[{"use": "memory"}, sink])})
    async with in_process_hub(config) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.text_in(REPLY)
        await kit.run_due_jobs()
        await kit.advance(hours=2)
        await kit.advance(hours=24)
        told = [n.kind for n in kit.outbox.notifications]
    assert len(fake.messages) == len(told) and told  # each owner notification, once
    text = json.dumps(fake.messages, ensure_ascii=False)
    assert "+15125550123" in text and "78704" in text and "https://crm.example.com/l/1" in text
    words = [leaf for leaf in leaves(fake.messages) if "kitchen sink" in leaf]
    assert words and all(ESCAPED[service] in leaf for leaf in words), words
    refs = [line for line in text.split('"') if line.startswith("ref ")]
    assert len(refs) == len(set(refs))
