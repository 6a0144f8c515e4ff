"""Voicemail transcripts through Twilio: ``<Record transcribe>``, its signed transcription
callback, and the transcript read into the caller's lead (the kit's ``CallDriver``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hub_twilio.testing import DEFAULT_CALLER, CallDriver, FakeTwilio, twilio_hub

from hub.testing import config_issues, write_config

SERVICES = {"water heater": ["hot water"], "drain cleaning": ["clogged", "drain"]}
TRANSCRIBE = {"call_options": {"transcribe": True}, "services": SERVICES}


def bodies(fake: FakeTwilio) -> list[str]:
    return [text["Body"] for text in fake.texts]


async def test_record_asks_for_a_transcript_only_when_configured(hub_dir, fake_twilio):
    for options, wanted in (({"transcribe": True}, True), ({}, False)):
        directory = hub_dir / str(wanted)
        directory.mkdir()
        async with twilio_hub(directory, fake_twilio, call_options=options) as (running, hooks):
            call = hooks.call()
            await hooks.post(running.client, "voice", call.voice())
            response = await hooks.post(running.client, "dial", call.dial("no-answer"))
            record = ET.fromstring(response.text).find("Record")
            assert record is not None
            assert (record.get("transcribe") == "true") is wanted
            assert (record.get("transcribeCallback") == hooks.url("transcript")) is wanted


async def test_transcript_after_the_text_back_asks_only_for_what_is_missing(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, **TRANSCRIBE) as (running, hooks):
        driver = CallDriver(running.client, hooks)
        trace = await driver.voicemail()
        await running.run_due_jobs()
        assert bodies(fake_twilio) == [
            "Hi, this is Acme Plumbing. Sorry we missed your call! What service do you need, "
            "and what ZIP code are you in? Reply STOP to opt out."
        ]

        spoken = "hi um this is Carla my water heater is leaking uh please call me back"
        response = await driver.transcript(trace.call_id, spoken)
        assert response.status_code == 204
        await running.run_due_jobs()

        lead = (await running.recorded.leads())[0]
        assert (lead.service, lead.zip, lead.name) == ("water heater", None, "Carla")
        # The follow-up asks for the ZIP only, from the number the caller called.
        assert bodies(fake_twilio)[1] == "Thanks, Carla! What ZIP code is the job in?"
        assert fake_twilio.texts[1]["From"] == "+15125550100"

        await driver.reply(DEFAULT_CALLER, "seven eight seven oh four")  # typed: not speech
        await driver.reply(DEFAULT_CALLER, "78704")
        await running.run_due_jobs()
        lead = (await running.recorded.leads())[0]
        assert lead.zip == "78704"
        [summary] = [n for n in running.outbox.notifications if n.kind == "summary"]
        assert f'"{spoken}"' in summary.text  # the owner's summary quotes the voicemail
        assert "ZIP:       78704" in summary.text
        assert len(fake_twilio.texts) == 2  # nothing asked twice


async def test_transcript_before_the_text_back_shapes_it(hub_dir, fake_twilio):
    delayed = {**TRANSCRIBE, "text_back": {"delay": 120}}
    async with twilio_hub(hub_dir, fake_twilio, **delayed) as (running, hooks):
        driver = CallDriver(running.client, hooks)
        trace = await driver.voicemail()
        spoken = "yeah my kitchen drain is clogged zip code seventy eight seven oh four thanks"
        await driver.transcript(trace.call_id, spoken)
        await running.run_due_jobs()
        assert fake_twilio.texts == []  # the text-back still waits for its delay
        lead = (await running.recorded.leads())[0]
        assert (lead.service, lead.zip) == ("drain cleaning", "78704")
        # Nothing is missing: the owner hears at once, with the caller's words.
        [summary] = [n for n in running.outbox.notifications if n.kind == "summary"]
        assert spoken in summary.text

        await running.advance(minutes=3)
        assert bodies(fake_twilio) == [
            "Hi, this is Acme Plumbing. Sorry we missed your call! Thanks for your message, "
            "we'll call you back soon. Reply STOP to opt out."
        ]


async def test_a_reply_beats_the_transcript_and_a_retry_changes_nothing(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, **TRANSCRIBE) as (running, hooks):
        driver = CallDriver(running.client, hooks)
        trace = await driver.voicemail()
        await running.run_due_jobs()
        await driver.reply(DEFAULT_CALLER, "Clogged drain, 78745")
        await running.run_due_jobs()
        texts = len(fake_twilio.texts)

        spoken = "its the water heater in seven eight seven oh four"
        await driver.transcript(trace.call_id, spoken)
        await driver.transcript(trace.call_id, spoken)  # Twilio retried
        await running.run_due_jobs()
        lead = (await running.recorded.leads())[0]
        assert (lead.service, lead.zip) == ("drain cleaning", "78745")  # typed wins
        voicemails = [m for m in await running.recorded.messages() if m.purpose == "voicemail"]
        assert [m.body for m in voicemails] == [spoken]
        assert len(fake_twilio.texts) == texts
        # The owner already had the summary: the voicemail reaches them as a reply does.
        replies = [n for n in running.outbox.notifications if n.kind == "reply"]
        assert replies and spoken in replies[-1].text


async def test_transcript_callbacks_are_verified_and_failed_ones_ignored(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio, **TRANSCRIBE) as (running, hooks):
        driver = CallDriver(running.client, hooks)
        trace = await driver.voicemail()
        call, url = driver._calls[trace.call_id]
        forged = await hooks.post(
            running.client, url, call.transcription("zip 78704"), signature="bad"
        )
        assert forged.status_code == 403
        failed = await driver.transcript(trace.call_id, "", status="failed")
        assert failed.status_code == 204
        unknown = hooks.call(call_sid="CA" + "f" * 32)
        other = await hooks.post(running.client, url, unknown.transcription("zip 78704"))
        assert other.status_code == 204
        await running.run_due_jobs()
        assert [m for m in await running.recorded.messages() if m.purpose == "voicemail"] == []
        assert (await running.recorded.leads())[0].zip is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"transcribe": True, "voicemail": False}, "transcribe needs voicemail"),
        ({"transcribe": True, "voicemail_max_length": 300}, "at most 120 seconds"),
    ],
)
def test_transcribe_config_is_checked(hub_dir, options, message):
    from hub_twilio.testing import twilio_business

    path = write_config(hub_dir, {"acme": twilio_business(call_options=options)})
    assert any(message in text for _, text in config_issues(path))
