"""Twilio calls end to end: signed voice webhooks into the hub's web app, the hub's texts out to
the fake Twilio API through the SDK."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET

import pytest
from hub_twilio.testing import (
    DEFAULT_CALLER,
    DEFAULT_NUMBER,
    DEFAULT_OWNER,
    FakeTwilio,
    twilio_hub,
)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


async def no_more_texts(running, fake: FakeTwilio, expected: int) -> None:
    """Run every job that is due, then count: a wrong extra text would have been sent."""
    await running.run_due_jobs()
    assert len(fake.creates) == expected


async def test_forward_rings_the_owner_and_an_answered_call_gets_no_text(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        root = twiml(await hooks.post(running.client, "voice", call.voice()))
        dial = root.find("Dial")
        assert dial is not None
        assert dial.get("answerOnBridge") == "true"
        assert dial.get("timeout") == "20"
        assert dial.get("action") == hooks.url("dial")
        assert dial.find("Number").text == DEFAULT_OWNER

        answered = twiml(
            await hooks.post(
                running.client, dial.get("action"), call.dial("completed", duration=95)
            )
        )
        assert answered.find("Hangup") is not None
        final = await hooks.post(
            running.client, "call-status", call.status("completed", duration=120)
        )
        assert final.status_code == 204

        await no_more_texts(running, fake_twilio, 0)
        stored = await running.recorded.call(call.sid)
        assert stored.outcome == "answered" and stored.skipped_reason == "answered"
        assert running.outbox.notifications == []


@pytest.mark.parametrize("dial_status", ["no-answer", "busy", "failed"])
async def test_forward_owner_did_not_take_the_call_caller_is_texted(
    hub_dir, fake_twilio, dial_status
):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        await hooks.post(running.client, "voice", call.voice())
        root = twiml(await hooks.post(running.client, "dial", call.dial(dial_status)))
        assert "get back to you" in root.find("Say").text
        assert root.find("Record") is not None  # the caller may leave a message

        await running.wait_for(lambda: fake_twilio.texts)
        text = fake_twilio.texts[0]
        assert text["To"] == DEFAULT_CALLER and text["From"] == DEFAULT_NUMBER
        assert "Sorry we missed your call" in text["Body"]
        assert text["StatusCallback"] == hooks.url("sms-status")
        await running.wait_for(lambda: running.outbox.notifications)
        assert (await running.recorded.call(call.sid)).outcome == "missed"

        # Twilio reports the end of the call too; it is the same call, not a second one.
        await hooks.post(running.client, "call-status", call.status("completed", duration=25))
        await no_more_texts(running, fake_twilio, 1)
        assert len(running.outbox.notifications) == 1


# What Twilio reports of a leg its screen hung up is unverified: DialBridged=false, or perhaps
# no DialBridged at all. Screening must decide either way.
@pytest.mark.parametrize("bridged", ["false", None])
async def test_screened_call_taken_by_the_owners_voicemail_is_missed(hub_dir, fake_twilio, bridged):
    async with twilio_hub(hub_dir, fake_twilio, call_options={"screening": True}) as (
        running,
        hooks,
    ):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        screen_url = number.get("url")
        assert screen_url.startswith(hooks.url("screen"))

        # The owner's carrier voicemail picks up: it hears the prompt and presses nothing.
        screen = twiml(await hooks.post(running.client, screen_url, call.screen()))
        gather = screen.find("Gather")
        assert gather.get("numDigits") == "1"
        assert "Press any key" in gather.find("Say").text
        assert screen.find("Hangup") is not None

        # Twilio calls it completed: something answered the owner's phone.
        outcome = call.dial("completed", duration=6)
        if bridged is None:
            del outcome["DialBridged"]
        else:
            outcome["DialBridged"] = bridged
        await hooks.post(running.client, "dial", outcome)
        await running.wait_for(lambda: fake_twilio.texts)
        assert fake_twilio.texts[0]["To"] == DEFAULT_CALLER
        assert (await running.recorded.call(call.sid)).outcome == "missed"


async def test_screened_call_the_owner_accepts_is_answered(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, call_options={"screening": True}) as (
        running,
        hooks,
    ):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        gather = twiml(await hooks.post(running.client, number.get("url"), call.screen())).find(
            "Gather"
        )
        accepted = twiml(
            await hooks.post(running.client, gather.get("action"), call.screen_answer("1"))
        )
        assert len(accepted) == 0  # an empty screen: Twilio connects the caller

        # The call's end may reach the hub before the Dial action does.
        await hooks.post(running.client, "call-status", call.status("completed", duration=200))
        await hooks.post(running.client, "dial", call.dial("completed", duration=190))
        await no_more_texts(running, fake_twilio, 0)
        assert (await running.recorded.call(call.sid)).outcome == "answered"


AMD = {"machine_detection": True}


# What the Dial action says of a leg whose <Number url> hung up is unverified (as for screening):
# DialBridged=false, or no DialBridged; some accounts also pass AnsweredBy on it.
@pytest.mark.parametrize("bridged", ["false", None, "answered_by"])
async def test_owners_voicemail_caught_by_machine_detection_is_missed(
    hub_dir, fake_twilio, bridged
):
    async with twilio_hub(hub_dir, fake_twilio, call_options=AMD) as (running, hooks):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        assert number.get("machineDetection") == "Enable"
        assert number.get("url").startswith(hooks.url("answered-by"))
        await hooks.post(running.client, number.get("statusCallback"), call.owner_status())

        # The owner's carrier voicemail picks up; Twilio's detection hears a machine.
        verdict = twiml(
            await hooks.post(running.client, number.get("url"), call.answered_by("machine_start"))
        )
        assert verdict.find("Hangup") is not None  # the caller is not put through to it

        outcome = call.dial("completed", duration=4)
        if bridged == "answered_by":
            outcome["AnsweredBy"] = "machine_start"
        elif bridged is None:
            del outcome["DialBridged"]
        else:
            outcome["DialBridged"] = bridged
        answer = twiml(await hooks.post(running.client, "dial", outcome))
        assert answer.find("Say") is not None  # the caller hears the missed-call message
        await running.wait_for(lambda: fake_twilio.texts)
        assert fake_twilio.texts[0]["To"] == DEFAULT_CALLER
        assert (await running.recorded.call(call.sid)).outcome == "missed"


async def test_a_person_picking_up_under_machine_detection_is_answered(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, call_options=AMD) as (running, hooks):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        await hooks.post(running.client, number.get("statusCallback"), call.owner_status())
        verdict = await hooks.post(running.client, number.get("url"), call.answered_by("human"))
        assert len(twiml(verdict)) == 0  # an empty answer: Twilio connects the two legs
        await hooks.post(running.client, "dial", call.dial("completed", duration=95))
        await no_more_texts(running, fake_twilio, 0)
        assert (await running.recorded.call(call.sid)).outcome == "answered"


async def test_machine_answer_then_the_calls_end_before_the_dial_action_is_missed(
    hub_dir, fake_twilio
):
    async with twilio_hub(hub_dir, fake_twilio, call_options=AMD) as (running, hooks):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        await hooks.post(running.client, number.get("statusCallback"), call.owner_status())
        await hooks.post(running.client, number.get("url"), call.answered_by("machine_end_beep"))
        # The caller hangs up during the message; the call's end arrives first.
        await hooks.post(running.client, "call-status", call.status("completed", duration=9))
        await running.wait_for(lambda: fake_twilio.texts)
        assert (await running.recorded.call(call.sid)).outcome == "missed"


async def test_without_machine_detection_the_owners_leg_is_not_classified(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        assert number.get("machineDetection") is None and number.get("url") is None


async def test_answered_unscreened_call_whose_end_arrives_before_the_dial_action(
    hub_dir, fake_twilio
):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        number = twiml(await hooks.post(running.client, "voice", call.voice())).find("Dial/Number")
        assert number.get("statusCallbackEvent") == "answered"
        leg = await hooks.post(
            running.client, number.get("statusCallback"), call.owner_status("in-progress")
        )
        assert leg.status_code == 204

        await hooks.post(running.client, "call-status", call.status("completed", duration=60))
        await hooks.post(running.client, "dial", call.dial("completed", duration=58))
        await no_more_texts(running, fake_twilio, 0)
        assert (await running.recorded.call(call.sid)).outcome == "answered"


async def test_caller_hangs_up_while_the_owners_phone_rings(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        await hooks.post(running.client, "voice", call.voice())
        # The caller gives up after 8 s of ringing: the call ends before any Dial outcome.
        response = await hooks.post(
            running.client, "call-status", call.status("completed", duration=8)
        )
        assert response.status_code == 204
        await running.wait_for(lambda: fake_twilio.texts)
        assert fake_twilio.texts[0]["To"] == DEFAULT_CALLER

        # Twilio still runs the Dial action for the abandoned call: same call, no second text.
        late = await hooks.post(
            running.client, "dial", call.dial("no-answer", call_status="completed")
        )
        assert late.status_code == 200
        await no_more_texts(running, fake_twilio, 1)
        assert len(await running.recorded.calls(provider_call_id=call.sid)) == 1


async def test_catch_mode_every_forwarded_call_is_missed_and_keeps_its_voicemail(
    hub_dir, fake_twilio
):
    published = "+15125550111"  # the business's own line, forwarding unanswered calls
    async with twilio_hub(hub_dir, fake_twilio, "catch") as (running, hooks):
        call = hooks.call(forwarded_from=published)
        root = twiml(await hooks.post(running.client, "voice", call.voice()))
        assert root.find("Dial") is None  # nobody is rung again
        assert "Leave a message" in root.find("Say").text
        record = root.find("Record")
        assert record.get("recordingStatusCallback") == record.get("action")

        recording = call.recording(duration=21)
        done = twiml(await hooks.post(running.client, record.get("action"), recording))
        assert done.find("Hangup") is not None
        await running.wait_for(lambda: fake_twilio.texts and running.outbox.notifications)
        assert fake_twilio.texts[0]["To"] == DEFAULT_CALLER

        stored = await running.recorded.call(call.sid)
        assert stored.outcome == "voicemail"
        assert stored.forwarded_from == published
        assert stored.recording_url == recording["RecordingUrl"]
        assert recording["RecordingUrl"] in running.outbox.notifications[0].text

        # The call's end and the recording's own callback come after: nothing new.
        await hooks.post(running.client, "call-status", call.status("completed", duration=40))
        late = await hooks.post(
            running.client,
            record.get("recordingStatusCallback"),
            call.recording_status(recording["RecordingUrl"]),
        )
        assert late.status_code == 200
        await no_more_texts(running, fake_twilio, 1)


async def test_catch_mode_voicemail_arriving_after_the_calls_end_is_kept(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, "catch") as (running, hooks):
        call = hooks.call(forwarded_from="+15125550111")
        record = twiml(await hooks.post(running.client, "voice", call.voice())).find("Record")
        await hooks.post(running.client, "call-status", call.status("completed", duration=30))
        await running.wait_for(lambda: fake_twilio.texts)

        # The recording's status callback has no From/To: its URL carries them.
        url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
        await hooks.post(
            running.client, record.get("recordingStatusCallback"), call.recording_status(url)
        )
        stored = await running.recorded.call(call.sid)
        assert stored.recording_url == url and stored.forwarded_from == "+15125550111"
        await no_more_texts(running, fake_twilio, 1)


async def test_after_hours_the_owner_is_not_rung_and_the_caller_is_texted(hub_dir, fake_twilio):
    closed_all_week: dict[str, str] = {}
    async with twilio_hub(hub_dir, fake_twilio, hours=closed_all_week) as (running, hooks):
        call = hooks.call()
        root = twiml(await hooks.post(running.client, "voice", call.voice()))
        assert root.find("Dial") is None
        assert "closed right now" in root.find("Say").text
        assert root.find("Record") is not None

        # The caller hangs up without leaving a message.
        await hooks.post(running.client, "call-status", call.status("completed", duration=9))
        await running.wait_for(lambda: fake_twilio.texts and running.outbox.notifications)
        assert "We're closed right now" in fake_twilio.texts[0]["Body"]
        stored = await running.recorded.call(call.sid)
        assert stored.after_hours and stored.outcome == "after_hours"
        assert stored.recording_url is None
        assert running.outbox.notifications[0].subject.startswith("After-hours call")


async def test_after_hours_voicemail_is_kept_on_the_call(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, hours={}) as (running, hooks):
        call = hooks.call()
        record = twiml(await hooks.post(running.client, "voice", call.voice())).find("Record")
        recording = call.recording()
        await hooks.post(running.client, record.get("action"), recording)
        await running.wait_for(lambda: running.outbox.notifications)
        stored = await running.recorded.call(call.sid)
        assert stored.after_hours and stored.recording_url == recording["RecordingUrl"]
        assert len(fake_twilio.texts) == 1
        assert "We're closed right now" in fake_twilio.texts[0]["Body"]


async def test_without_voicemail_a_closed_business_decides_at_once(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, hours={}, call_options={"voicemail": False}) as (
        running,
        hooks,
    ):
        root = twiml(await hooks.post(running.client, "voice", hooks.call().voice()))
        assert root.find("Record") is None and root.find("Hangup") is not None
        await running.wait_for(lambda: fake_twilio.texts)


async def test_same_missed_call_webhook_three_times_at_once_sends_one_text(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        await hooks.post(running.client, "voice", call.voice())
        form = call.dial("no-answer")
        responses = await asyncio.gather(
            *(hooks.post(running.client, "dial", form) for _ in range(3))
        )
        assert [r.status_code for r in responses] == [200, 200, 200]
        await running.wait_for(lambda: fake_twilio.texts and running.outbox.notifications)
        await no_more_texts(running, fake_twilio, 1)
        assert len(await running.recorded.calls()) == 1
        assert (await running.recorded.lead(DEFAULT_CALLER)).call_count == 1
        assert len(running.outbox.notifications) == 1


async def test_call_to_a_number_the_business_does_not_own_is_refused(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        response = await hooks.post(
            running.client, "voice", hooks.call(called="+15125559999").voice()
        )
        assert response.status_code == 403
        assert await running.recorded.calls() == []


async def test_catch_mode_a_caller_that_is_its_own_forwarded_from_is_not_texted(
    hub_dir, fake_twilio
):
    """The business's own line forwarding to itself (a test call, a loop) is not a customer."""
    line = "+15125550111"
    async with twilio_hub(hub_dir, fake_twilio, "catch") as (running, hooks):
        call = hooks.call(line, forwarded_from=line)
        await hooks.post(running.client, "voice", call.voice())
        await hooks.post(running.client, "call-status", call.status("completed", duration=5))
        await no_more_texts(running, fake_twilio, 0)
        stored = await running.recorded.call(call.sid)
        assert stored.skipped_reason == "own_number"


@pytest.mark.parametrize("at", ["not-a-time", "0001-01-01T00:00:00+00:00"])
async def test_a_signed_voicemail_url_with_a_bad_time_is_still_a_call(hub_dir, fake_twilio, at):
    """The call's start rides in the <Record> URL; a signed one that is no time, or no time a
    call can have, is the hub's now: never a 500, never a job that fails for good."""
    async with twilio_hub(hub_dir, fake_twilio, "catch") as (running, hooks):
        call = hooks.call(forwarded_from="+15125550111")
        record = twiml(await hooks.post(running.client, "voice", call.voice())).find("Record")
        action = re.sub(r"at=[^&]+", f"at={at}", record.get("action"))
        done = await hooks.post(running.client, action, call.recording(duration=21))
        assert done.status_code == 200
        await running.wait_for(lambda: fake_twilio.texts and running.outbox.notifications)
        stored = await running.recorded.call(call.sid)
        assert abs((stored.at - running.clock.now()).total_seconds()) < 60


async def test_a_signed_call_id_longer_than_the_hub_stores_is_a_400(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, "catch") as (running, hooks):
        call = hooks.call(forwarded_from="+15125550111")
        form = {**call.status("completed", duration=20), "CallSid": "CA" + "9" * 200}
        response = await hooks.post(running.client, "call-status", form)
        assert response.status_code == 400 and "1 to 128 characters" in response.text
        await running.run_due_jobs()
        assert fake_twilio.texts == []
