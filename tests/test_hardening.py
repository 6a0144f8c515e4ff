"""Hostile input that once made a 500 or a job that fails for good, and log lines it could forge."""

from __future__ import annotations

import logging

from hub.testing import business, in_process_hub, signed_call, write_config
from hub.testing.config import DEFAULT_SECRET


async def test_json_nested_past_pythons_limit_is_a_400(hub_dir):
    from hub.defaults.generic import SIGNATURE_HEADER, sign

    body = ("[" * 30_000 + "]" * 30_000).encode()  # under the 64 KiB cap
    async with in_process_hub(write_config(hub_dir)) as kit:
        for route in ("call", "sms", "sms-status"):
            response = await kit.client.post(
                f"/hooks/acme/generic/{route}",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(DEFAULT_SECRET, body),
                },
            )
            assert response.status_code == 400, (route, response.status_code, response.text)


async def test_a_call_in_year_one_is_a_call_now(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as kit:
        body, headers = signed_call(at="0001-01-01T00:00:00+00:00")
        response = await kit.client.post("/hooks/acme/generic/call", content=body, headers=headers)
        assert response.status_code == 200, response.text
        await kit.run_due_jobs()
        assert len(kit.outbox.texts) == 1 and kit.outbox.notifications  # nothing failed
        call = await kit.recorded.call()
        assert abs((call.at - kit.clock.now()).total_seconds()) < 60


async def test_the_log_sink_never_lets_a_customer_forge_a_log_line(hub_dir, caplog):
    settings = business(sinks=[{"use": "log"}], text_back={"delay": 0})
    async with in_process_hub(write_config(hub_dir, {"acme": settings})) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        caplog.set_level(logging.INFO, logger="hub.notify")
        forged = "leak\n12:00:00 ERROR   hub: database wiped\x1b]0;pwned\x07"
        answer = await kit.text_in(forged)
        assert answer.status_code < 300, answer.text
        await kit.advance(hours=6)  # the follow-up question, then the summary, which quotes
        await kit.advance(hours=1)  # the customer's words
    written = "\n".join(r.getMessage() for r in caplog.records if r.name == "hub.notify")
    assert "database wiped" in written  # the words are there...
    lines = written.split("\n")
    assert not any(line.startswith("12:00:00") for line in lines)  # ...never as a record
    assert "\x1b" not in written and "\x07" not in written and "\\x1b" in written
