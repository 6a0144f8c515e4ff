"""Only Twilio gets in: every route checks X-Twilio-Signature over the public URL."""

from __future__ import annotations

import pytest
from hub_twilio.testing import DEFAULT_CALLER, TwilioWebhooks, twilio_hub
from twilio.request_validator import HMAC_SHA256

SHARED_KEY = ("webhooks_sharedkey_0123", "a-shared-key-secret-4567")


async def nothing_happened(running, fake) -> None:
    await running.run_due_jobs()
    assert await running.recorded.calls() == []
    assert await running.recorded.messages() == []
    assert await running.recorded.provider_events() == []
    assert fake.creates == []


async def test_forged_or_unsigned_webhooks_are_refused_and_nothing_is_stored(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        call = hooks.call()
        forger = TwilioWebhooks(running.url, auth_token="f" * 32)
        cases = {
            "wrong token": forger.sign("dial", call.dial("no-answer")),
            "no signature": hooks.sign("dial", call.dial("no-answer"), signature=""),
            "inbound text, wrong token": forger.sign("sms", hooks.sms(DEFAULT_CALLER, "hello")),
            "call status, wrong token": forger.sign("call-status", call.status("completed")),
        }
        signed = hooks.sign("dial", call.dial("no-answer"))
        tampered = signed.body.replace(b"no-answer", b"busy")
        for name, request in cases.items():
            headers = {k: v for k, v in request.headers.items() if v}
            response = await running.client.post(
                request.target, content=request.body, headers=headers
            )
            assert response.status_code == 403, name
        response = await running.client.post(
            signed.target, content=tampered, headers=signed.headers
        )
        assert response.status_code == 403
        assert "X-Twilio-Signature does not match" in response.text
        # A signature for another route does not open this one.
        moved = await running.client.post(
            signed.target.replace("/dial", "/call-status"),
            content=signed.body,
            headers=signed.headers,
        )
        assert moved.status_code == 403
        await nothing_happened(running, fake_twilio)


@pytest.mark.parametrize(
    "public_url", ["https://hub.example.com", "https://example.com/missed-calls"]
)
async def test_behind_a_tls_proxy_signatures_cover_the_public_url(hub_dir, fake_twilio, public_url):
    async with twilio_hub(hub_dir, fake_twilio) as (running, internal):
        # The proxy takes https://hub.example.com/... and forwards it to http://127.0.0.1:PORT.
        running.hub.config.public_url = public_url
        hooks = TwilioWebhooks(public_url)
        call = hooks.call()

        as_seen_inside = await internal.post(running.client, "voice", call.voice())
        assert as_seen_inside.status_code == 403
        assert f"checked as {public_url}/hooks/acme/twilio/voice" in as_seen_inside.text

        response = await hooks.post(running.client, "voice", call.voice())
        assert response.status_code == 200
        assert f'action="{public_url}/hooks/acme/twilio/dial"' in response.text
        await hooks.post(running.client, "dial", call.dial("no-answer"))
        await running.wait_for(lambda: fake_twilio.texts)
        assert (
            fake_twilio.texts[0]["StatusCallback"] == f"{public_url}/hooks/acme/twilio/sms-status"
        )


async def test_webhook_rule_signatures_with_a_shared_key(hub_dir, fake_twilio):
    keys = {SHARED_KEY[0]: SHARED_KEY[1]}
    async with twilio_hub(hub_dir, fake_twilio, call_options={"webhook_shared_keys": keys}) as (
        running,
        hooks,
    ):
        call = hooks.call()
        signed = await hooks.post(
            running.client, "voice", call.voice(), algorithm=HMAC_SHA256, shared_key=SHARED_KEY
        )
        assert signed.status_code == 200

        wrong = ("webhooks_sharedkey_0123", "not-the-secret")
        forged = await hooks.post(
            running.client, "voice", call.voice(), algorithm=HMAC_SHA256, shared_key=wrong
        )
        assert forged.status_code == 403
        # Same secret, but the request claims the SHA-1 scheme: the digests differ.
        mislabeled = hooks.sign("voice", call.voice(), algorithm=HMAC_SHA256, shared_key=SHARED_KEY)
        headers = {
            **mislabeled.headers,
            "X-Twilio-Webhooks-Signature-Settings": f"key={SHARED_KEY[0]},algorithm=HMAC_SHA1",
        }
        response = await running.client.post(
            mislabeled.target, content=mislabeled.body, headers=headers
        )
        assert response.status_code == 403


async def test_sha256_signature_with_the_auth_token(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        # No SharedKey configured for this id: the account's Auth Token is the key.
        token_key = ("webhooks_sharedkey_9", "0123456789abcdef0123456789abcdef")
        response = await hooks.post(
            running.client,
            "voice",
            hooks.call().voice(),
            algorithm=HMAC_SHA256,
            shared_key=token_key,
        )
        assert response.status_code == 200


async def test_every_value_of_a_repeated_field_is_signed(hub_dir, fake_twilio):
    async with twilio_hub(hub_dir, fake_twilio) as (running, hooks):
        form: dict[str, str | list[str]] = {**hooks.sms(DEFAULT_CALLER, "hi"), "Tag": ["b", "a"]}
        assert (await hooks.post(running.client, "sms", form)).status_code == 200

        # Signed over one value, sent with two: a field was added on the way.
        again = {**hooks.sms(DEFAULT_CALLER, "hi again"), "Tag": ["b"]}
        signed = hooks.sign("sms", again)
        body = signed.body + b"&Tag=a"
        response = await running.client.post(signed.target, content=body, headers=signed.headers)
        assert response.status_code == 403
        assert len(await running.recorded.messages(direction="in")) == 1
