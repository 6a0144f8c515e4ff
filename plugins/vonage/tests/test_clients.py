"""The SDK's traps and how the plugin steps around them (protocols.md §0 items 7-9, G)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hub_vonage.clients import Clients, _PlainHttpAdapter, build_client
from hub_vonage.config import VonageSenderConfig
from hub_vonage.testing import (
    API_KEY,
    API_SECRET,
    APPLICATION_ID,
    FakeVonage,
    private_key_pem,
    settings,
    vonage_business,
)
from vonage import Auth, HttpClientOptions, Vonage
from vonage_messages import Sms as MessagesSms
from vonage_sms import SmsError, SmsMessage

from hub import OutboundSms, SendStatus
from hub.testing import in_process_hub, make_hub, write_config


def sender_config(fake: FakeVonage, **overrides) -> VonageSenderConfig:
    return VonageSenderConfig.model_validate(settings(fake, **overrides))


def messages_then_sms(messages_client: Vonage, sms_client: Vonage) -> None:
    messages_client.messages.send(MessagesSms(to="15125550123", from_="15125550100", text="first"))
    sms_client.sms.send(SmsMessage(to="15125550123", from_="15125550100", text="second"))


def test_one_shared_sdk_client_leaks_the_json_content_type_into_sms_calls(fake):
    """The upstream bug (Vonage/vonage-python-sdk#323), reproduced: if this starts failing, the
    SDK fixed it and the per-family clients could go."""
    host = fake.url.removeprefix("http://")
    # One client with both credentials, used for both families, as the SDK invites.
    shared = Vonage(
        Auth(
            api_key=API_KEY,
            api_secret=API_SECRET,
            application_id=APPLICATION_ID,
            private_key=private_key_pem(),
        ),
        HttpClientOptions(api_host=host, rest_host=host, max_retries=0),
    )
    shared.http_client._session.mount(f"https://{host}", _PlainHttpAdapter())
    with contextlib.suppress(SmsError):  # the fake, like Vonage, cannot read a form labelled JSON
        messages_then_sms(shared, shared)
    sms_request = fake.requests_to("/sms/json")[-1]
    assert sms_request.headers["content-type"] == "application/json"
    assert sms_request.body.startswith(b"to=")  # a form body under a JSON label
    assert [t.body for t in fake.texts] == ["first"]


def test_the_plugins_clients_keep_each_family_apart(fake):
    clients = Clients(sender_config(fake, api="messages", api_key=API_KEY, api_secret=API_SECRET))
    with clients.messages.client() as messages, clients.sms.client() as sms:
        messages_then_sms(messages, sms)
    sms_request = fake.requests_to("/sms/json")[-1]
    assert sms_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert [t.body for t in fake.texts] == ["first", "second"]
    clients.close()


async def test_a_messages_sender_falling_back_to_an_sms_sender_sends_a_form(hub_dir, fake):
    from hub.testing import ScriptedResponse

    business = vonage_business(fake, api="messages")
    business["sms_sender"]["fallbacks"] = [{"use": "vonage", **settings(fake, api="sms")}]
    hub = make_hub(write_config(hub_dir, {"acme": business}))
    fake.script(
        ScriptedResponse(422, {"title": "Invalid params", "detail": "Messages API says no"})
    )
    sms = OutboundSms(reference="1", to="+15125550123", body="hello", sender_number="+15125550100")
    result, sender = await hub.texting.send(hub.config.businesses["acme"], sms)
    assert result.status == SendStatus.SENT and sender is hub.senders("acme")[1]
    assert [t.api for t in fake.texts] == ["sms"]
    assert fake.texts[0].request.headers["content-type"] == "application/x-www-form-urlencoded"
    for each in hub.senders("acme"):
        await each.close()


def test_plain_http_only_for_hosts_configured_that_way(fake):
    plain = build_client(sender_config(fake), "sms").http_client._session.adapters
    host = fake.url.removeprefix("http://")
    assert f"https://{host}" in plain
    real = build_client(sender_config(None), "sms").http_client._session.adapters
    assert set(real) == {"https://", "http://"}  # the SDK's own: TLS to Vonage


async def test_concurrent_sends_each_get_a_client_of_their_own(hub_dir, fake):
    hub = make_hub(write_config(hub_dir, {"acme": vonage_business(fake)}))
    sender = hub.senders("acme")[0]
    results = await asyncio.gather(
        *(
            sender.send(OutboundSms(str(i), f"+1512555{i:04d}", f"text {i}", "+15125550100"))
            for i in range(8)
        )
    )
    assert all(r.status == SendStatus.SENT for r in results)
    assert sorted(t.body for t in fake.texts) == sorted(f"text {i}" for i in range(8))
    assert 1 <= sender.clients.sms.size <= 8
    await sender.close()


async def test_signed_sms_api_requests_with_each_method(hub_dir, fake):
    for method in ("md5hash", "sha256"):
        fake.signature_method = method
        config = settings(fake, api_secret=None, sign_requests=True, signature_method=method)
        hub = make_hub(write_config(hub_dir, {"acme": vonage_business(fake, sender=config)}))
        sender = hub.senders("acme")[0]
        result = await sender.send(OutboundSms("1", "+15125550123", "signed", "+15125550100"))
        assert result.status == SendStatus.SENT, result.error
        form = fake.texts[-1].request.form
        assert "api_secret" not in form and form["api_key"] == API_KEY and len(form["sig"]) >= 32
        assert "authorization" not in fake.texts[-1].request.headers
        await sender.close()
    fake.signature_method = "sha256"


async def test_credentials_never_reach_the_sdk_debug_log(hub_dir, fake, caplog):
    import base64

    async with in_process_hub(write_config(hub_dir, {"acme": vonage_business(fake)})) as kit:
        sender = kit.hub.senders("acme")[0]
        with caplog.at_level(logging.DEBUG, logger="vonage"):
            result = await sender.send(OutboundSms("1", "+15125550123", "hi", "+15125550100"))
    assert result.status == SendStatus.SENT
    basic = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    assert "request to" in caplog.text  # the SDK did log the request...
    assert basic not in caplog.text and API_SECRET not in caplog.text  # ...without them


def test_the_sdks_own_signed_sms_requests_sign_fields_they_never_send(fake):
    """Why ``sign_requests`` uses the plugin's signer: the SDK signs ``callback=None``,
    ``ttl=None``... which ``requests`` then leaves out of the form."""
    host = fake.url.removeprefix("http://")
    sdk = Vonage(
        Auth(api_key=API_KEY, signature_secret=fake.signature_secret, signature_method="sha256"),
        HttpClientOptions(api_host=host, rest_host=host, max_retries=0),
    )
    sdk.http_client._session.mount(f"https://{host}", _PlainHttpAdapter())
    with contextlib.suppress(SmsError):
        sdk.sms.send(SmsMessage(to="15125550123", from_="15125550100", text="signed by the SDK"))
    assert fake.texts == []  # status 4: the signature covers fields that were not sent
    assert "callback" not in fake.requests_to("/sms/json")[-1].form
