"""Voicemail transcripts through Vonage: the ``record`` action's ``transcription``, its signed
event, the transcript fetched as the application and read into the caller's lead."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hub_vonage.testing import (
    APPLICATION_ID,
    CALLER,
    CallDriver,
    CallTrace,
    FakeVonage,
    VonageWebhooks,
    private_key_pem,
    transcription_event_url,
    vonage_business,
)
from hub_vonage.transcripts import allowed_url, transcript_text

from hub.testing import InProcessHub, ScriptedResponse, config_issues, in_process_hub, write_config

SERVICES = {"water heater": ["hot water"], "drain cleaning": ["clogged", "drain"]}
APPLICATION = {"application_id": APPLICATION_ID, "private_key": private_key_pem()}


def transcribing(fake: FakeVonage, **call: Any) -> dict[str, Any]:
    return vonage_business(
        fake, call={"transcribe": True, **APPLICATION, **call}, services=SERVICES
    )


@contextlib.asynccontextmanager
async def vonage_hub(
    hub_dir, fake: FakeVonage, businesses: dict[str, dict[str, Any]]
) -> AsyncIterator[tuple[InProcessHub, CallDriver]]:
    async with in_process_hub(write_config(hub_dir, businesses)) as running:
        yield running, CallDriver(running.client, clock=running.clock, fake=fake)


def record_action(trace: CallTrace) -> dict[str, Any]:
    ncco = trace.last_ncco
    assert ncco is not None
    [record] = [action for action in ncco if action["action"] == "record"]
    return record


async def voicemails(running: InProcessHub) -> list[str]:
    return [m.body for m in await running.recorded.messages() if m.purpose == "voicemail"]


async def test_record_asks_for_a_transcript_only_when_configured(hub_dir, fake):
    for wanted in (True, False):
        directory = hub_dir / str(wanted)
        directory.mkdir()
        acme = transcribing(fake) if wanted else vonage_business(fake)
        async with vonage_hub(directory, fake, {"acme": acme}) as (_, driver):
            trace = await driver.missed_call(CALLER)
            transcription = record_action(trace).get("transcription")
            assert (transcription is not None) is wanted
            if transcription:
                assert transcription["language"] == "en-US"
                [event_url] = transcription["eventUrl"]
                expected = f"http://hub.test/hooks/acme/vonage/transcript?call={trace.call_id}&"
                assert event_url.startswith(expected) and "hub_sig=" in event_url


async def test_transcript_fills_the_lead_and_the_follow_up_asks_only_for_what_is_missing(
    hub_dir, fake
):
    async with vonage_hub(hub_dir, fake, {"acme": transcribing(fake)}) as (running, driver):
        trace = await driver.voicemail(CALLER)
        await running.run_due_jobs()
        assert [text.body for text in fake.texts] == [
            "Hi, this is Acme Plumbing. Sorry we missed your call! What service do you need, "
            "and what ZIP code are you in? Reply STOP to opt out."
        ]

        spoken = "hi um this is Carla. my water heater is leaking uh please call me back"
        response = await driver.transcript(trace.call_id, spoken)
        assert response.status_code == 204
        await running.run_due_jobs()

        # The hub fetched the file as the application (the fake refuses anything else).
        [fetch] = fake.requests_to("/v1/files/")
        assert fetch.headers["authorization"].startswith("Bearer ")
        assert await voicemails(running) == [spoken.replace(".", "")]
        lead = (await running.recorded.leads())[0]
        assert (lead.service, lead.zip, lead.name) == ("water heater", None, "Carla")
        assert fake.texts[1].body == "Thanks, Carla! What ZIP code is the job in?"

        await driver.reply(CALLER, "78704")
        await running.run_due_jobs()
        [summary] = [n for n in running.outbox.notifications if n.kind == "summary"]
        assert "my water heater is leaking" in summary.text
        assert "ZIP:       78704" in summary.text
        assert len(fake.texts) == 2  # nothing asked twice

        await driver.transcript(trace.call_id, "its the drain")  # Vonage sent it again
        await running.run_due_jobs()
        assert len(await voicemails(running)) == 1


async def test_forged_failed_and_foreign_transcription_events_change_nothing(hub_dir, fake):
    beta = vonage_business(fake, call={"transcribe": True, **APPLICATION}, numbers=["+15125550101"])
    businesses = {"acme": transcribing(fake), "beta": beta}
    async with vonage_hub(hub_dir, fake, businesses) as (running, driver):
        trace = await driver.voicemail(CALLER)
        url = transcription_event_url(trace)
        assert url is not None
        file_url = fake.add_transcription("my zip is 78704")

        forged = VonageWebhooks(secret="not-the-signature-secret-0123456789")
        response = await forged.transcription(url, file_url).send(running.client)
        assert response.status_code == 403
        unsigned = VonageWebhooks(secret=None)
        response = await unsigned.transcription(url, file_url).send(running.client)
        assert response.status_code == 401

        failed = await driver.transcript(trace.call_id, "", status="failed")
        assert failed.status_code == 204

        # Beta's route, signed with the shared test secret, naming acme's call: beta has no
        # such call, so the transcript is fetched and then not taken.
        other = url.replace("/hooks/acme/", "/hooks/beta/")
        response = await driver.webhooks.transcription(other, file_url).send(running.client)
        assert response.status_code == 204

        # A signed event replayed with another call in the URL: the hub signed that URL.
        swapped = url.replace(f"call={trace.call_id}", "call=CALL-someone-else")
        response = await driver.webhooks.transcription(swapped, file_url).send(running.client)
        assert response.status_code == 403

        # A transcription_url off Vonage's host is never fetched with the application's JWT.
        elsewhere = await driver.webhooks.transcription(
            url, "https://attacker.example/v1/files/x"
        ).send(running.client)
        assert elsewhere.status_code == 400

        await running.run_due_jobs()
        assert await voicemails(running) == []
        lead = (await running.recorded.leads())[0]
        assert (lead.business, lead.zip) == ("acme", None)
        assert len(fake.requests_to("/v1/files/")) == 1  # only beta's job fetched


async def test_a_transcript_fetch_that_times_out_is_retried(hub_dir, fake):
    acme = transcribing(fake, transcription_timeout=0.2)
    async with vonage_hub(hub_dir, fake, {"acme": acme}) as (running, driver):
        trace = await driver.voicemail(CALLER)
        await running.run_due_jobs()
        fake.script(ScriptedResponse(delay=1.0), ScriptedResponse(503, {"title": "down"}))
        await driver.transcript(trace.call_id, "the drain is clogged")
        await running.run_due_jobs()
        assert await voicemails(running) == []  # timed out: waiting for its retry
        await running.advance(minutes=2)
        assert await voicemails(running) == []  # 503: another retry
        await running.advance(minutes=5)
        assert await voicemails(running) == ["the drain is clogged"]
        assert len(fake.requests_to("/v1/files/")) == 3
        assert (await running.recorded.leads())[0].service == "drain cleaning"


async def test_a_transcript_vonage_refuses_is_dropped(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, {"acme": transcribing(fake)}) as (running, driver):
        trace = await driver.voicemail(CALLER)
        await running.run_due_jobs()
        fake.script(ScriptedResponse(404, {"title": "Not Found"}))
        await driver.transcript(trace.call_id, "the drain is clogged")
        await running.run_due_jobs()
        await running.advance(hours=2)
        assert await voicemails(running) == []
        assert len(fake.requests_to("/v1/files/")) == 1


def test_transcription_files_and_urls():
    assert transcript_text({"channels": [{"transcript": [{"sentence": " Hi. "}]}, {}]}) == "Hi."
    assert transcript_text({"channels": []}) == ""
    with pytest.raises(ValueError):
        transcript_text({"transcript": "hi"})
    default = "api.nexmo.com"
    assert allowed_url("https://api-us.nexmo.com/v1/files/abc", default)
    assert allowed_url("https://api-eu-1.vonage.com/v1/files/abc", default)
    assert not allowed_url("http://api.nexmo.com/v1/files/abc", default)
    assert not allowed_url("https://api.nexmo.com.evil.example/v1/files/abc", default)
    assert not allowed_url("https://user@api.nexmo.com/v1/files/abc", default)
    assert not allowed_url("https://api.nexmo.com:8443/v1/files/abc", default)
    assert allowed_url("http://127.0.0.1:8089/v1/files/abc", "http://127.0.0.1:8089")
    assert not allowed_url("http://127.0.0.1:9999/v1/files/abc", "http://127.0.0.1:8089")


@pytest.mark.parametrize(
    ("call", "key", "message"),
    [
        ({"transcribe": True, "voicemail": False, **APPLICATION}, "transcribe", "needs voicemail"),
        ({"transcribe": True}, "application_id", "set application_id and private_key"),
        ({"transcription_language": "english"}, "transcription_language", "language tag"),
    ],
)
def test_transcribe_config_is_checked(hub_dir, call, key, message):
    path = write_config(hub_dir, {"acme": vonage_business(call=call)})
    issues = dict(config_issues(path))
    assert message in issues[f"businesses.acme.call_source.{key}"]
