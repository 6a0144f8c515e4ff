"""The ``webhook`` sink in a whole hub: a missed call and a reply reach the receiver signed,
a lost answer is retried under the same id, and a 410 stops it for good, tells the owner
once, and shows in ``hub check`` and ``hub leads show``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hub_webhook.testing import new_secret
from standardwebhooks import Webhook

from hub.testing import business, in_process_hub, run_cli, write_config

SECRET = new_secret()
REPLY = "This is Dana, kitchen sink clogged, zip 78704. <!channel> @everyone <img src=x>"


def webhook(url: str, **more: object) -> dict[str, object]:
    return {"use": "webhook", "url": url, "secret": SECRET, "allow_private": True, **more}


def verify(request) -> None:
    """Standard Webhooks' own check of a request signed at the hub's (manual) clock's time."""
    stamp = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    expected = Webhook(SECRET).sign(request.headers["webhook-id"], stamp, request.body.decode())
    assert request.headers["webhook-signature"] == expected


async def test_a_missed_call_and_a_reply_reach_the_receiver(hub_dir, fake_receiver):
    sinks = [{"use": "memory"}, webhook(fake_receiver.url, on=["lead.created", "lead.updated"])]
    config = write_config(hub_dir, {"acme": business(sinks=sinks)})
    async with in_process_hub(config) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.text_in(REPLY)
        await kit.run_due_jobs()
        await kit.advance(hours=1)
    for request in fake_receiver.kept:
        verify(request)
    created, *updates = fake_receiver.bodies
    assert created["type"] == "lead.created"
    assert created["data"]["lead"]["caller"] == "+15125550123"
    assert updates and {body["type"] for body in updates} == {"lead.updated"}
    lead = updates[-1]["data"]["lead"]
    assert lead["zip"] == "78704" and REPLY in lead["customer_words"]  # verbatim: it is data
    ids = [request.headers["webhook-id"] for request in fake_receiver.kept]
    assert len(set(ids)) == len(ids)  # one id per event


async def test_a_lost_answer_is_retried_under_the_same_webhook_id(hub_dir, fake_receiver):
    fake_receiver.answer_late(1.5)  # past the 0.5 s timeout: the hub never hears "204"
    sinks = [{"use": "memory"}, webhook(fake_receiver.url, on=["lead.created"], timeout=0.5)]
    config = write_config(hub_dir, {"acme": business(sinks=sinks)})
    async with in_process_hub(config) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()  # the POST the receiver keeps, then the timeout
        await kit.advance(seconds=6)  # the spec's first step: 5 s, jittered
        await kit.advance(hours=30)  # and nothing more ever comes
    first, second = fake_receiver.kept
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the receiver dedupes
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    verify(first)
    verify(second)


async def test_410_stops_the_endpoint_and_the_owner_hears_once(hub_dir, fake_receiver):
    fake_receiver.gone()
    sinks = [{"use": "memory"}, webhook(fake_receiver.url + "/t0ken", on=["lead.created"])]
    config = write_config(hub_dir, {"acme": business(sinks=sinks)})
    async with in_process_hub(config) as kit:
        await kit.post_call(id="call-1", caller="+15125550123")
        await kit.run_due_jobs()
        await kit.post_call(id="call-2", caller="+15125550124")
        await kit.run_due_jobs()
        await kit.advance(hours=30)
        problems = [n for n in kit.outbox.notifications if n.kind == "problem"]
    assert len(fake_receiver.requests) == 1  # the second lead got no request
    (problem,) = problems
    assert "410 Gone" in problem.text and "http://127.0.0.1" in problem.text
    assert "t0ken" not in problem.text

    # The same database, seen by the commands an owner runs (on installed plugins only).
    sinks = [webhook(fake_receiver.url + "/t0ken", on=["lead.created"])]
    config = write_config(hub_dir, {"acme": business(sinks=sinks, sms_sender={"use": "console"})})
    # In a thread: the commands run their own event loop, as they do from a shell.
    check = await asyncio.to_thread(run_cli, "check", "--config", str(config))
    assert check.returncode == 0, check.output
    assert "warning: businesses.acme.sinks[0]: http://127.0.0.1 answered 410 Gone on" in (
        check.stderr
    )
    shown = await asyncio.to_thread(run_cli, "leads", "show", "2", "--config", str(config))
    assert "notify_failed" in shown.stdout and "disabled: http://127.0.0.1" in shown.stdout
    assert "t0ken" not in check.output + shown.output
