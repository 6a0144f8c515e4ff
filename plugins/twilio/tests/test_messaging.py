"""Twilio texts end to end: the SDK's real requests to the fake Twilio API, inbound texts and
status callbacks as signed webhooks."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from hub_twilio.testing import (
    DEFAULT_CALLER,
    DEFAULT_NUMBER,
    WEEKDAY_NOON,
    FakeTwilio,
    TwilioWebhooks,
    twilio_error,
    twilio_hub,
)

from hub import OutboundSms, SendStatus
from hub.testing import InProcessHub, ManualClock, ScriptedResponse

OTHER_CALLER = "+15125550177"


async def missed_call(running, hooks: TwilioWebhooks, caller: str = DEFAULT_CALLER) -> None:
    call = hooks.call(caller)
    await hooks.post(running.client, "voice", call.voice())
    response = await hooks.post(running.client, "dial", call.dial("no-answer"))
    assert response.status_code == 200, response.text


async def retry_scheduled(running: InProcessHub) -> None:
    """The text-back job failed its attempt and waits for the next one."""
    waiting = await running.recorded.jobs(kind="text_back", state="available")
    assert any(job.attempt > 0 for job in waiting), waiting


async def settled(running, fake: FakeTwilio, creates: int) -> None:
    """Run every job that is due, then count the sends Twilio was asked for."""
    await running.run_due_jobs()
    assert len(fake.creates) == creates


async def test_customer_reply_lands_in_the_conversation_and_gets_an_answer(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: len(running.outbox.notifications) == 1)
        text_back = await running.recorded.message(direction="out")

        sms = hooks.sms(DEFAULT_CALLER, "Water heater is leaking, today please")
        response = await hooks.post(running.client, "sms", sms)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        assert response.text.endswith("<Response />")  # no in-line answer: jobs send them
        again = await hooks.post(running.client, "sms", sms)  # Twilio retried it
        assert again.status_code == 200

        inbound = await running.recorded.messages(direction="in")
        assert len(inbound) == 1 and inbound[0].provider_message_id == sms["MessageSid"]
        assert inbound[0].lead_id == text_back.lead_id  # the same conversation
        # The hub answers (a question for what is missing, or the owner's summary), once.
        await running.wait_for(
            lambda: len(fake_twilio.texts) == 2 or len(running.outbox.notifications) == 2
        )
        for text in fake_twilio.texts[1:]:
            assert text["To"] == DEFAULT_CALLER and text["From"] == DEFAULT_NUMBER
        words = [n.lead.customer_words for n in running.outbox.notifications[1:]]
        assert all(w == ("Water heater is leaking, today please",) for w in words)


async def test_stop_through_twilio_opts_out_without_a_second_confirmation(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: fake_twilio.texts)

        # Twilio matched STOP and already answered it: the hub records it and stays silent.
        stop = hooks.sms(DEFAULT_CALLER, "Stop", opt_out_type="STOP")
        assert (await hooks.post(running.client, "sms", stop)).status_code == 200
        await settled(running, fake_twilio, 1)
        opt_out = await running.recorded.opt_out(DEFAULT_CALLER)
        assert opt_out.active and opt_out.source == "provider"

        # They call again: no text, and the owner is told why.
        await missed_call(running, hooks)
        await running.wait_for(lambda: len(running.outbox.notifications) == 2)
        assert "opted out" in running.outbox.notifications[1].text
        await settled(running, fake_twilio, 1)


async def test_twilio_21610_marks_the_caller_opted_out_and_is_not_retried(hub_dir, fake_twilio):
    fake_twilio.opted_out.add(OTHER_CALLER)  # they texted STOP to this number long ago
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        await missed_call(running, hooks, OTHER_CALLER)
        await running.wait_for(lambda: running.outbox.notifications)
        assert "opted out" in running.outbox.notifications[0].text
        await settled(running, fake_twilio, 1)
        assert fake_twilio.texts == []
        opt_out = await running.recorded.opt_out(OTHER_CALLER)
        assert opt_out.active and opt_out.source == "provider_error"
        message = await running.recorded.message(phone=OTHER_CALLER)
        assert message.status == "failed" and message.error_code == "21610"

        await missed_call(running, hooks, OTHER_CALLER)
        await running.wait_for(lambda: len(running.outbox.notifications) == 2)
        await settled(running, fake_twilio, 1)  # not even tried


async def test_status_callbacks_out_of_order_only_move_forward(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: running.outbox.notifications)
        message = await running.recorded.message(direction="out")
        assert message.status == "queued"  # what Twilio answered the create with
        sid = message.provider_message_id
        assert sid and sid.startswith("SM")

        for status in ("delivered", "sent", "sending", "delivered"):
            response = await hooks.post(running.client, "sms-status", hooks.sms_status(sid, status))
            assert response.status_code == 204
        assert (await running.recorded.message(message.id)).status == "delivered"


async def test_undelivered_to_a_landline_tells_the_owner_to_call(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: running.outbox.notifications)
        sid = (await running.recorded.message(direction="out")).provider_message_id

        await hooks.post(running.client, "sms-status", hooks.sms_status(sid, "sent"))
        status = hooks.sms_status(sid, "undelivered", error_code="30006")
        await hooks.post(running.client, "sms-status", status)
        await running.wait_for(lambda: len(running.outbox.notifications) == 2)
        assert running.outbox.notifications[1].kind == "cannot_text"
        assert "cannot receive texts" in running.outbox.notifications[1].text
        assert (await running.recorded.contact(DEFAULT_CALLER)).can_receive_sms is False
        assert (await running.recorded.message(direction="out")).status == "undelivered"


async def test_provider_down_for_a_while_then_exactly_one_text(hub_dir, fake_twilio):
    clock = ManualClock(WEEKDAY_NOON)
    # Each run after the first asks Twilio whether the text went out (a list, answered as
    # usual: ``ScriptedResponse()``) before it sends again.
    fake_twilio.script(
        ScriptedResponse(status=503),
        ScriptedResponse(),
        ScriptedResponse(status=500, delay=1.0),  # slower than the sender waits: a timeout
        ScriptedResponse(),
        twilio_error(20429, status=429),
        ScriptedResponse(),
    )
    async with twilio_hub(hub_dir, fake_twilio, clock=clock, sender_options={"timeout": 0.3}) as (
        running,
        hooks,
    ):
        await missed_call(running, hooks)
        for attempt in (1, 2, 3):
            await running.wait_for(lambda n=attempt: len(fake_twilio.creates) == n)
            await retry_scheduled(running)
            # Nothing is recorded as sent until a send succeeds (only the attempt, without an
            # outcome); the job keeps the error.
            recorded = await running.recorded.messages(direction="out")
            assert [(m.status, m.sent_at) for m in recorded] == [("sending", None)]
            assert running.outbox.notifications == []
            clock.advance(timedelta(minutes=2))  # past the retry's backoff

        await running.wait_for(lambda: fake_twilio.texts and running.outbox.notifications)
        await settled(running, fake_twilio, 4)
        assert len(fake_twilio.texts) == 1 and len(fake_twilio.listings) == 3
        message = await running.recorded.message(direction="out")
        assert message.provider_message_id and message.provider == "twilio"
        assert "texted them back" in running.outbox.notifications[0].text


async def test_messaging_service_sends_instead_of_a_number(hub_dir, fake_twilio):
    service = "MG" + "ab" * 16
    options = {"from": None, "messaging_service_sid": service}
    async with twilio_hub(hub_dir, fake_twilio, sender_options=options) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: fake_twilio.texts)
        text = fake_twilio.texts[0]
        assert text["MessagingServiceSid"] == service and "From" not in text


async def test_line_type_check_skips_landlines_and_remembers_what_it_found(hub_dir, fake_twilio):
    fake_twilio.line_types[OTHER_CALLER] = "landline"
    options = {"line_type_check": True}
    async with twilio_hub(hub_dir, fake_twilio, sender_options=options) as (running, hooks):
        await missed_call(running, hooks, OTHER_CALLER)
        await running.wait_for(lambda: running.outbox.notifications)
        assert "cannot receive texts" in running.outbox.notifications[0].text
        assert [r.path for r in fake_twilio.lookups] == [f"/v2/PhoneNumbers/{OTHER_CALLER}"]
        assert fake_twilio.lookups[0].query == {"Fields": "line_type_intelligence"}
        assert fake_twilio.creates == []
        assert (await running.recorded.contact(OTHER_CALLER)).line_type == "landline"

        # A mobile caller is looked up once; the hub's next text to them uses what it found.
        await missed_call(running, hooks, DEFAULT_CALLER)
        await running.wait_for(lambda: len(fake_twilio.texts) == 1)
        await hooks.post(running.client, "sms", hooks.sms(DEFAULT_CALLER, "HELP"))
        await running.wait_for(lambda: len(fake_twilio.texts) == 2)
        assert len(fake_twilio.lookups) == 2
        assert (await running.recorded.contact(DEFAULT_CALLER)).line_type == "mobile"


async def test_line_type_lookup_down_still_texts(hub_dir, fake_twilio):
    fake_twilio.script(ScriptedResponse(status=503))
    options = {"line_type_check": True}
    async with twilio_hub(hub_dir, fake_twilio, sender_options=options) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: fake_twilio.texts)
        assert len(fake_twilio.lookups) == 1
        # Nothing was learnt, so the next text asks again.
        assert (await running.recorded.contact(DEFAULT_CALLER)).line_type is None


@pytest.mark.parametrize(
    ("code", "owner_hears", "can_receive"),
    [
        (21614, "cannot receive texts", False),  # not a mobile number
        (21211, "Twilio error 21211", None),  # an invalid 'To': nothing to learn about the person
    ],
)
async def test_refused_texts_are_not_retried_and_the_owner_hears_why(
    hub_dir, fake_twilio, code, owner_hears, can_receive
):
    fake_twilio.script(twilio_error(code))
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        await missed_call(running, hooks)
        await running.wait_for(lambda: running.outbox.notifications)
        assert owner_hears in running.outbox.notifications[0].text
        await settled(running, fake_twilio, 1)
        message = await running.recorded.message(direction="out")
        assert message.status == "failed" and message.error_code == str(code)
        assert (await running.recorded.contact(DEFAULT_CALLER)).can_receive_sms is can_receive


async def test_a_twilio_that_hangs_is_given_up_on_at_the_configured_timeout(hub_dir, fake_twilio):
    fake_twilio.answer_delay = 30  # accepts the text, then does not answer
    options = {"timeout": 0.3}
    async with twilio_hub(hub_dir, fake_twilio, sender_options=options) as (running, _):
        [sender] = running.hub.senders("acme")
        sms = OutboundSms("text_back:1#1", DEFAULT_CALLER, "Sorry we missed you", DEFAULT_NUMBER)
        started = time.monotonic()
        result = await asyncio.wait_for(sender.send(sms), 10)
        assert time.monotonic() - started < 5
    assert result.status == SendStatus.RETRY and "TimeoutError" in (result.error or "")
    assert len(fake_twilio.texts) == 1  # Twilio took it: only asking it can tell


async def test_a_text_twilio_took_before_hanging_is_not_sent_again(hub_dir, fake_twilio):
    clock = ManualClock(WEEKDAY_NOON)
    fake_twilio.answer_delay = 30  # takes the text, then hangs past the sender's timeout
    options = {"timeout": 0.3}
    async with twilio_hub(hub_dir, fake_twilio, clock=clock, sender_options=options) as (
        running,
        hooks,
    ):
        await missed_call(running, hooks)
        await running.wait_for(lambda: len(fake_twilio.creates) == 1)
        await retry_scheduled(running)  # timed out: the hub cannot know it went out
        fake_twilio.answer_delay = 0
        clock.advance(timedelta(minutes=2))
        await running.wait_for(lambda: running.outbox.notifications)
        await settled(running, fake_twilio, 1)  # asked (a list), found it, sent nothing
        assert len(fake_twilio.texts) == 1 and len(fake_twilio.listings) == 1
        message = await running.recorded.message(direction="out")
        assert message.status == "queued" and message.sent_at is not None
        assert message.provider_message_id == fake_twilio.sent[0].provider_id
        assert "texted them back" in running.outbox.notifications[0].text
