"""Calls through the Vonage Voice API webhooks, end to end through the hub's web app: Vonage's
side is played by ``CallDriver`` (following the NCCOs the hub returns), texts go out through the fake
Vonage SMS API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from hub_vonage.testing import (
    CALLER,
    CallDriver,
    FakeVonage,
    SentText,
    VonageWebhooks,
    connect_event_url,
    vonage_business,
)

from hub import CallView
from hub.testing import InProcessHub, in_process_hub, write_config


@contextlib.asynccontextmanager
async def vonage_hub(
    hub_dir, fake: FakeVonage, **overrides: Any
) -> AsyncIterator[tuple[InProcessHub, CallDriver]]:
    config = write_config(hub_dir, {"acme": vonage_business(fake, **overrides)})
    async with in_process_hub(config) as running:
        yield running, CallDriver(running.client, clock=running.clock)


async def sent(running: InProcessHub, fake: FakeVonage, count: int) -> list[SentText]:
    """Run every due job, then the fake has at least ``count`` texts: all it will get."""
    await running.run_due_jobs()
    assert len(fake.texts) >= count, fake.texts
    return list(fake.texts)


async def only_call(running: InProcessHub) -> CallView:
    calls = await running.recorded.calls()
    assert len(calls) == 1, calls
    return calls[0]


# -- forwarding to the owner ----------------------------------------------------------------------


async def test_answer_rings_the_owner_with_a_timeout_and_a_synchronous_event_url(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        trace = await story.call()
        assert trace.responses[0].status_code == 200
        [connect] = trace.answer_ncco
        assert connect["action"] == "connect"
        assert connect["endpoint"] == [{"type": "phone", "number": "15125550199"}]
        assert connect["from"] == "15125550100"  # a Vonage number, without '+'
        assert connect["timeout"] == 20
        assert connect["eventType"] == "synchronous"
        assert connect["machineDetection"] == "continue"
        assert connect["eventUrl"][0].startswith(f"{running.url}/hooks/acme/vonage/event?")
        assert "leg=owner" in connect["eventUrl"][0]
        assert await running.recorded.calls() == []  # nothing is decided until the owner's leg says


async def test_answered_call_sends_no_text(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        await story.answered_call(CALLER)
        await running.run_due_jobs()
        assert fake.texts == []
        call = await only_call(running)
        assert call.outcome == "answered" and call.skipped_reason == "answered"
        assert await running.recorded.leads() == []


async def test_answered_call_whose_caller_hangs_up_first_is_still_answered(hub_dir, fake):
    # The caller's "completed" may arrive before the owner's leg reports its end.
    async with vonage_hub(hub_dir, fake) as (running, story):
        trace = await story.call(CALLER)
        url = connect_event_url(trace.answer_ncco)
        hooks = story.webhooks
        for request in (
            hooks.owner_event(trace.call_id, "answered", event_url=url),
            hooks.caller_event(trace.call_id, "completed"),
            hooks.owner_event(trace.call_id, "completed", event_url=url),
        ):
            assert (await request.send(story.client)).status_code < 300
        await running.run_due_jobs()
        assert fake.texts == []
        assert (await only_call(running)).outcome == "answered"


async def test_no_answer_texts_the_caller_back_through_vonage(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        trace = await story.missed_call(CALLER, how="timeout")
        # The synchronous event's answer replaces the caller's NCCO: a message and a voicemail.
        ncco = trace.last_ncco
        assert ncco is not None and [a["action"] for a in ncco] == ["talk", "record"]
        assert "Acme Plumbing" in ncco[0]["text"]
        [text] = await sent(running, fake, 1)
        assert text.api == "sms"
        assert text.to == "15125550123" and text.sender == "15125550100"  # no '+' either way
        assert "Acme Plumbing" in text.body and "STOP" in text.body
        message = await running.recorded.message(direction="out")  # recorded after the send
        assert text.client_ref.startswith(f"{message.source_key}#")
        assert text.callback == f"{running.url}/hooks/acme/vonage/sms-status"
        assert text.request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        await running.wait_for(lambda: running.outbox.notifications)
        assert (await running.recorded.message(message.id)).status == "sent"
        call = await only_call(running)
        assert (
            call.outcome == "missed"
            and call.caller == CALLER
            and call.provider_call_id == trace.call_id
        )


async def test_busy_owner_means_missed(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        await story.missed_call(CALLER, how="busy")
        await sent(running, fake, 1)
        assert (await only_call(running)).outcome == "missed"


async def test_every_unanswered_owner_state_means_missed(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        callers = {
            "unanswered": "+15125550131",
            "rejected": "+15125550132",
            "failed": "+15125550133",
        }
        for how, caller in callers.items():
            await story.missed_call(caller, how=how)
        await sent(running, fake, 3)
        assert sorted(t.to for t in fake.texts) == sorted(
            c.removeprefix("+") for c in callers.values()
        )


async def test_answering_machine_on_the_owners_phone_means_missed(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        await story.missed_call(CALLER, how="machine")  # answered, then machine, then completed
        [text] = await sent(running, fake, 1)
        assert text.to == "15125550123"
        assert (await only_call(running)).outcome == "missed"


async def test_caller_hanging_up_while_it_rings_means_missed(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        trace = await story.missed_call(CALLER, how="caller_hangup")
        assert trace.responses[2].status_code == 204  # nobody left to hear an NCCO
        await sent(running, fake, 1)
        await running.run_due_jobs()
        assert len(fake.texts) == 1
        assert (await only_call(running)).outcome == "missed"


async def test_caller_leg_completing_with_no_owner_event_means_missed(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        trace = await story.call(CALLER)
        response = await story.webhooks.caller_event(trace.call_id, "completed").send(story.client)
        assert response.status_code == 204
        await sent(running, fake, 1)


# -- screening ------------------------------------------------------------------------------------


async def test_screening_voicemail_that_presses_nothing_means_missed(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, call={"screening": True}) as (running, story):
        trace = await story.call(CALLER)
        [connect] = trace.answer_ncco
        assert "machineDetection" not in connect
        assert "/hooks/acme/vonage/screen?" in connect["endpoint"][0]["onAnswer"]["url"]
        url = connect_event_url(trace.answer_ncco)
        await story.webhooks.owner_event(trace.call_id, "answered", event_url=url).send(
            story.client
        )
        response = await story.owner_presses(trace, None)  # the voicemail box's greeting plays on
        assert response.json()[0]["action"] == "talk"
        [text] = await sent(running, fake, 1)
        assert text.to == "15125550123"
        await story.webhooks.owner_event(trace.call_id, "completed", event_url=url).send(
            story.client
        )
        await running.run_due_jobs()
        assert len(fake.texts) == 1
        assert (await only_call(running)).outcome == "missed"


async def test_screening_owner_pressing_1_means_answered(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, call={"screening": True}) as (running, story):
        trace = await story.answered_call(CALLER)
        screen = next(r for r in trace.responses if r.request.url.path.endswith("/screen"))
        assert [a["action"] for a in screen.json()] == ["talk", "input"]
        assert "Press 1" in screen.json()[0]["text"]
        await running.run_due_jobs()
        assert fake.texts == []
        assert (await only_call(running)).outcome == "answered"


# -- nobody is rung -------------------------------------------------------------------------------


async def test_catch_mode_never_rings_and_texts_every_caller(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, call={"mode": "catch"}) as (running, story):
        trace = await story.call(CALLER)
        assert [a["action"] for a in trace.answer_ncco] == ["talk", "record"]
        assert "/hooks/acme/vonage/recording?" in trace.answer_ncco[1]["eventUrl"][0]
        [text] = await sent(running, fake, 1)
        assert text.to == "15125550123"
        call = await only_call(running)
        assert call.outcome == "missed" and not call.after_hours
        # The voicemail's recording arrives later: the call was already reported; no new text.
        recording = await story.webhooks.recording(trace.answer_ncco[1]["eventUrl"][0]).send(
            story.client
        )
        assert recording.status_code == 204
        await story.webhooks.caller_event(trace.call_id, "completed").send(story.client)
        await running.run_due_jobs()
        assert len(fake.texts) == 1 and len(await running.recorded.calls()) == 1


async def test_catch_mode_without_voicemail_only_talks(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, call={"mode": "catch", "voicemail": False}) as (
        _running,
        story,
    ):
        trace = await story.call(CALLER)
        assert [a["action"] for a in trace.answer_ncco] == ["talk"]


async def test_after_hours_call_gets_a_message_and_the_after_hours_text(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, hours={}) as (running, story):  # never open
        trace = await story.call(CALLER)
        talk = trace.answer_ncco[0]
        assert talk["action"] == "talk" and "closed" in talk["text"]
        assert all(a["action"] != "connect" for a in trace.answer_ncco)
        [text] = await sent(running, fake, 1)
        assert text.to == "15125550123"
        call = await only_call(running)
        assert call.after_hours and call.outcome == "after_hours"


# -- duplicates, signatures, strangers ------------------------------------------------------------


async def test_same_event_delivered_three_times_at_once_texts_once(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        trace = await story.call(CALLER)
        url = connect_event_url(trace.answer_ncco)
        # Vonage signs each attempt afresh: three tokens, one body.
        requests = [
            story.webhooks.owner_event(trace.call_id, "timeout", event_url=url) for _ in range(3)
        ]
        responses = await asyncio.gather(*(request.send(running.client) for request in requests))
        assert [r.status_code for r in responses] == [200, 200, 200]
        await sent(running, fake, 1)
        await running.run_due_jobs()
        assert len(fake.texts) == 1
        assert len(await running.recorded.calls()) == 1
        assert len(await running.recorded.messages(direction="out")) == 1


async def test_unsigned_or_badly_signed_voice_webhooks_are_refused_and_nothing_is_stored(
    hub_dir, fake
):
    async with vonage_hub(hub_dir, fake, call={"mode": "catch"}) as (running, story):
        unsigned = VonageWebhooks(secret=None)
        forged = VonageWebhooks(secret="not-the-signature-secret-at-all-0123")
        stale = VonageWebhooks(now=lambda: __import__("time").time() - 3600)
        assert (await unsigned.answer("c1").send(running.client)).status_code == 401
        assert (await forged.answer("c2").send(running.client)).status_code == 403
        assert (await stale.answer("c3").send(running.client)).status_code == 403
        assert (
            await unsigned.caller_event("c4", "completed").send(running.client)
        ).status_code == 401
        # A genuine token, but the body was changed after signing: payload_hash no longer matches.
        genuine = story.webhooks.caller_event("c5", "completed")
        tampered = genuine.content.replace(b"15125550123", b"15125550666")
        response = await running.client.post(genuine.url, content=tampered, headers=genuine.headers)
        assert response.status_code == 403 and "payload_hash" in response.text
        await running.run_due_jobs()
        assert await running.recorded.calls() == []
        assert fake.texts == []


async def test_small_clock_skew_is_tolerated(hub_dir, fake):
    import time

    async with vonage_hub(hub_dir, fake, call={"mode": "catch"}) as (running, _):
        ahead = VonageWebhooks(now=lambda: time.time() + 30)  # Vonage's clock 30 s ahead
        assert (await ahead.answer("skewed").send(running.client)).status_code == 200


async def test_answer_for_a_number_the_business_does_not_own_is_refused(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, call={"mode": "catch"}) as (running, _):
        stranger = VonageWebhooks(number="+15125559999")
        response = await stranger.answer("c1").send(running.client)
        assert response.status_code == 403
        assert await running.recorded.calls() == []


async def test_answer_by_post_json_works_too(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        response = await story.webhooks.answer("post-1", method="POST").send(running.client)
        assert response.status_code == 200
        assert response.json()[0]["action"] == "connect"
