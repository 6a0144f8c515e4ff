"""Texts through Vonage, end to end through the hub's web app: sending through the fake SMS and Messages
APIs, inbound texts and delivery receipts as signed webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hub_vonage.multipart import MAX_PART_CHARS, MAX_PARTS
from hub_vonage.testing import (
    CALLER,
    CallDriver,
    FakeVonage,
    SentText,
    VonageWebhooks,
    vonage_business,
)

from hub import OutboundSms, RecipientIssue, SendStatus
from hub.testing import InProcessHub, RecordedMessage, in_process_hub, make_hub, write_config


@contextlib.asynccontextmanager
async def vonage_hub(
    hub_dir, fake: FakeVonage, *, database: str | None = None, **overrides: Any
) -> AsyncIterator[tuple[InProcessHub, CallDriver]]:
    top = {"database": database} if database else {}
    kit = in_process_hub(write_config(hub_dir, {"acme": vonage_business(fake, **overrides)}, **top))
    if kit.hub.db.dialect == "postgres":  # the hub migrates only SQLite by itself
        await kit.hub.db.connect()
        await kit.hub.db.migrate()
        await kit.hub.db.close()
    async with kit as running:
        yield running, CallDriver(running.client, clock=running.clock)


async def sent(running: InProcessHub, fake: FakeVonage, count: int) -> list[SentText]:
    """Run every due job, then the fake has at least ``count`` texts: all it will get."""
    await running.run_due_jobs()
    assert len(fake.texts) >= count, fake.texts
    return list(fake.texts)


async def texted_back(
    running: InProcessHub, fake: FakeVonage, story: CallDriver, caller: str = CALLER
) -> RecordedMessage:
    """A missed call and its text-back; the outbound message, recorded as sent."""
    before = len(fake.texts)
    await story.missed_call(caller)
    await sent(running, fake, before + 1)
    reference = fake.texts[before].client_ref  # the hub's reference for this text
    message = await running.recorded.message(source_key=(reference or "").split("#")[0])
    assert message.provider_message_id is not None
    return message


# -- sending --------------------------------------------------------------------------------------


async def test_messages_api_sends_json_as_the_application(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, api="messages") as (running, story):
        message = await texted_back(running, fake, story)
        [text] = fake.texts
        assert text.api == "messages"
        body = text.request.json
        assert body["channel"] == "sms" and body["message_type"] == "text"
        assert body["to"] == "15125550123" and body["from"] == "15125550100"
        assert body["client_ref"].startswith(f"{message.source_key}#")
        assert body["webhook_url"] == f"{running.url}/hooks/acme/vonage/sms-status"
        assert text.request.headers["authorization"].startswith("Bearer ")  # checked by the fake
        assert message.provider == "vonage" and message.provider_message_id == text.message_id


async def test_configured_sender_id_and_unicode_text(hub_dir, fake):
    templates = {"text_back": "Hola de {{ business.name }} — ¿qué necesita? ✓"}
    async with vonage_hub(hub_dir, fake, sender={"from": "AcmePlumb"}, templates=templates) as (
        running,
        story,
    ):
        await story.missed_call(CALLER)
        [text] = await sent(running, fake, 1)
        assert text.sender == "AcmePlumb"
        assert text.request.form["type"] == "unicode"  # the default GSM type would garble ✓


async def test_provider_down_for_a_while_then_exactly_one_text(hub_dir, fake):
    fake.fail_next(503, times=2, retry_after=0)
    async with vonage_hub(hub_dir, fake) as (running, story):
        await story.missed_call(CALLER)
        [text] = await sent(running, fake, 1)
        await running.run_due_jobs()
        assert running.outbox.notifications
        assert len(fake.requests_to("/sms/json")) == 3  # two 503s, then the one that went
        assert len(fake.texts) == 1
        message = await running.recorded.message(direction="out")
        assert message.status == "sent" and message.provider_message_id == text.message_id
        assert running.outbox.notifications[0].kind == "new_lead"


async def test_throttled_send_is_retried(hub_dir, fake):
    fake.reject_next("1", "Throttled")
    async with vonage_hub(hub_dir, fake) as (running, story):
        await story.missed_call(CALLER)
        await running.run_due_jobs()
        assert fake.texts == []  # throttled: Vonage asks for a second's pause
        await running.advance(1)
        assert len(fake.texts) == 1
        assert len(fake.requests_to("/sms/json")) == 2


async def test_rejected_send_fails_and_the_owner_hears_it(hub_dir, fake):
    fake.reject_next("15", "Illegal Sender Address - rejected")
    async with vonage_hub(hub_dir, fake) as (running, story):
        await story.missed_call(CALLER)
        await running.wait_for(lambda: running.outbox.notifications)
        message = await running.recorded.message(direction="out")
        assert message.status == "failed" and message.error_code == "15"
        assert "Illegal Sender Address" in (message.error or "")
        assert len(fake.requests_to("/sms/json")) == 1  # not retried


async def test_sender_results_for_each_kind_of_failure(hub_dir, fake):
    hub = make_hub(write_config(hub_dir, {"acme": vonage_business(fake)}))
    sender = hub.senders("acme")[0]
    sms = OutboundSms(reference="7", to="+15125550123", body="hi", sender_number="+15125550100")

    fake.reject_next("7", "Number barred")
    barred = await sender.send(sms)
    assert barred.status == SendStatus.FAILED and barred.recipient_issue == RecipientIssue.OPTED_OUT

    fake.reject_next("6", "Unroutable")
    unroutable = await sender.send(sms)
    assert unroutable.recipient_issue == RecipientIssue.CANNOT_RECEIVE

    fake.script(
        __import__("hub.testing", fromlist=["ScriptedResponse"]).ScriptedResponse(
            429, {"title": "Too Many Requests"}, headers={"Retry-After": "3"}
        )
    )
    limited = await sender.send(sms)
    assert limited.status == SendStatus.RETRY and limited.retry_after == 3.0

    fake.fail_next(500, retry_after=None)
    down = await sender.send(sms)
    assert down.status == SendStatus.RETRY and down.error_code == "500"

    sent = await sender.send(sms)
    assert sent.status == SendStatus.SENT and sent.provider_id == fake.texts[-1].message_id
    await sender.close()


async def test_network_errors_are_retryable(hub_dir):
    from hub.testing import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    settings = {"rest_host": closed, "api_host": closed, "timeout": 2}
    hub = make_hub(write_config(hub_dir, {"acme": vonage_business(None, sender=settings)}))
    sender = hub.senders("acme")[0]
    result = await sender.send(OutboundSms("1", "+15125550123", "hi", "+15125550100"))
    assert result.status == SendStatus.RETRY and "unreachable" in (result.error or "")
    await sender.close()


async def test_messages_api_errors(hub_dir, fake):
    from hub.testing import ScriptedResponse

    hub = make_hub(write_config(hub_dir, {"acme": vonage_business(fake, api="messages")}))
    sender = hub.senders("acme")[0]
    sms = OutboundSms(reference="8", to="+15125550123", body="hi", sender_number="+15125550100")
    fake.script(
        ScriptedResponse(422, {"title": "Invalid params", "detail": "The value of `to` is invalid"})
    )
    invalid = await sender.send(sms)
    assert invalid.status == SendStatus.FAILED and invalid.error_code == "422"
    assert "Invalid params" in (invalid.error or "")
    fake.script(ScriptedResponse(429, {"title": "Rate Limit Hit"}, headers={"Retry-After": "2"}))
    limited = await sender.send(sms)
    assert limited.status == SendStatus.RETRY and limited.retry_after == 2.0
    assert (await sender.send(sms)).status == SendStatus.SENT
    await sender.close()


# -- inbound texts --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["get", "form", "json", "messages"])
async def test_reply_in_every_webhook_shape_lands_in_the_lead(hub_dir, fake, shape):
    async with vonage_hub(hub_dir, fake) as (running, story):
        await texted_back(running, fake, story)
        response = await story.reply(CALLER, "Water heater is leaking, 78701 & urgent", shape=shape)
        assert response.status_code == 204  # stored before the answer: no waiting needed
        reply = await running.recorded.message(direction="in")
        assert reply.body == "Water heater is leaking, 78701 & urgent"
        assert reply.phone == CALLER and reply.business_number == "+15125550100"
        assert reply.provider == "vonage"
        text_back = await running.recorded.message(direction="out")
        assert reply.lead_id == text_back.lead_id  # same conversation


async def test_same_inbound_text_three_times_at_once_is_one_message(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        request = story.webhooks.inbound_sms(CALLER, "Need a plumber")
        responses = await asyncio.gather(*(request.send(running.client) for _ in range(3)))
        assert [r.status_code for r in responses] == [204, 204, 204]
        assert len(await running.recorded.messages(direction="in")) == 1


async def test_multipart_text_is_reassembled_whatever_the_order(hub_dir, fake, database):
    parts = [
        "My basement is flooding and the water heater ",
        "is making a loud bang. I am at ",
        "1200 Main St, 78701.",
    ]
    async with vonage_hub(hub_dir, fake, database=database) as (running, story):
        requests = story.webhooks.multipart_sms(CALLER, parts, concat_ref="7")
        shuffled = [requests[2], requests[0], requests[2], requests[1]]  # one part re-sent
        for request in shuffled:
            assert (await request.send(running.client)).status_code == 204
        messages = await running.recorded.messages(direction="in")
        assert len(messages) == 1
        assert messages[0].body == "".join(parts)
        # Vonage re-sending a part afterwards changes nothing.
        assert (await requests[1].send(running.client)).status_code == 204
        assert len(await running.recorded.messages(direction="in")) == 1


async def test_multipart_text_with_a_part_missing_is_passed_on_after_the_wait(
    hub_dir, fake, database
):
    async with vonage_hub(hub_dir, fake, database=database, sender={"concat_wait": 1}) as (
        running,
        story,
    ):
        requests = story.webhooks.multipart_sms(
            CALLER, ["Leak under the sink, ", "lost part", "please call"], concat_ref="9"
        )
        await requests[0].send(running.client)
        await requests[2].send(running.client)
        assert await running.recorded.messages(direction="in") == []
        await running.run_due_jobs()
        assert await running.recorded.messages(direction="in") == []  # still waiting for the part
        await running.advance(1)  # concat_wait
        [reply] = await running.recorded.messages(direction="in")
        assert reply.body == "Leak under the sink,  […] please call"


async def test_a_ten_part_text_of_full_parts_is_reassembled(hub_dir, fake):
    parts = [f"{number:03d}" + "x" * (MAX_PART_CHARS - 3) for number in range(1, MAX_PARTS + 1)]
    async with vonage_hub(hub_dir, fake) as (running, story):
        for request in story.webhooks.multipart_sms(CALLER, parts, concat_ref="10"):
            assert (await request.send(running.client)).status_code == 204
        [message] = await running.recorded.messages(direction="in")
        assert message.body == "".join(parts)


@pytest.mark.parametrize(
    ("claimed", "text"),
    [(MAX_PARTS + 1, "part one"), (300_000, "part one"), (3, "x" * (MAX_PART_CHARS + 1))],
)
async def test_an_implausible_multipart_claim_is_acknowledged_and_dropped(
    hub_dir, fake, caplog, claimed, text
):
    async with vonage_hub(hub_dir, fake, sender={"concat_wait": 1}) as (running, story):
        request = story.webhooks.inbound_sms(
            CALLER,
            text,
            extra={
                "concat": "true",
                "concat-ref": "77",
                "concat-total": str(claimed),
                "concat-part": "1",
            },
        )
        with caplog.at_level(logging.WARNING, logger="hub.plugins.vonage"):
            # 204 all the same: a 4xx would make Vonage re-send it for a day.
            assert (await request.send(running.client)).status_code == 204
        dropped = [r for r in caplog.records if "dropping multipart text" in r.getMessage()]
        assert len(dropped) == 1
        await running.advance(2)  # past concat_wait: nothing was kept to pass on
        assert await running.recorded.messages(direction="in") == []
        assert await running.recorded.jobs() == []


async def test_text_to_another_number_is_acknowledged_but_not_stored(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, _):
        stranger = VonageWebhooks(number="+15125559999")
        response = await stranger.inbound_sms(CALLER, "hello").send(running.client)
        assert response.status_code == 204  # a 4xx would make Vonage re-send it for a day
        assert await running.recorded.messages() == []


async def test_binary_texts_are_ignored(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        request = story.webhooks.inbound_sms(
            CALLER, "", extra={"type": "binary", "data": "0A0B", "udh": "050003"}
        )
        assert (await request.send(running.client)).status_code == 204
        assert await running.recorded.messages() == []


@pytest.mark.parametrize("shape", ["get", "form", "json"])
async def test_unsigned_or_badly_signed_texts_are_refused(hub_dir, fake, shape):
    async with vonage_hub(hub_dir, fake) as (running, _):
        unsigned = VonageWebhooks(secret=None).inbound_sms(CALLER, "hi", shape=shape)
        forged = VonageWebhooks(secret="some-other-signature-secret-0123").inbound_sms(
            CALLER, "hi", shape=shape
        )
        old = VonageWebhooks(now=lambda: time.time() - 3600).inbound_sms(CALLER, "hi", shape=shape)
        assert (await unsigned.send(running.client)).status_code == 401
        assert (await forged.send(running.client)).status_code == 403
        assert (await old.send(running.client)).status_code == 403
        receipt = VonageWebhooks(secret=None).delivery_receipt("0A00000000000001", shape=shape)
        assert (await receipt.send(running.client)).status_code == 401
        assert await running.recorded.messages() == []


async def test_signature_method_must_match_the_dashboard(hub_dir, fake):
    async with vonage_hub(hub_dir, fake, sender={"signature_method": "md5hash"}) as (running, _):
        md5hash = VonageWebhooks(method="md5hash").inbound_sms(CALLER, "signed with MD5 hash")
        sha256 = VonageWebhooks(method="sha256").inbound_sms(CALLER, "signed with SHA-256")
        assert (await md5hash.send(running.client)).status_code == 204
        assert (await sha256.send(running.client)).status_code == 403
        assert [m.body for m in await running.recorded.messages(direction="in")] == [
            "signed with MD5 hash"
        ]


async def test_messages_api_webhooks_with_a_bad_jwt_are_refused(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        forged = VonageWebhooks(secret="some-other-signature-secret-0123")
        assert (await forged.inbound_message(CALLER, "hi").send(running.client)).status_code == 403
        genuine = story.webhooks.inbound_message(CALLER, "hi")
        tampered = genuine.content.replace(b'"hi"', b'"STOP"')
        response = await running.client.post(genuine.url, content=tampered, headers=genuine.headers)
        assert response.status_code == 403
        assert (await forged.message_status("uuid-1").send(running.client)).status_code == 403
        assert await running.recorded.messages() == []


# -- opt-outs and delivery receipts ---------------------------------------------------------------


async def test_stop_then_an_opt_out_error_from_vonage(hub_dir, fake):
    other = "+15125550177"
    async with vonage_hub(hub_dir, fake) as (running, story):
        # A caller texts STOP: opted out at once, confirmed once, never texted back again.
        await texted_back(running, fake, story, CALLER)
        await story.reply(CALLER, "STOP")
        await sent(running, fake, 2)
        assert "unsubscribed" in fake.texts[1].body.lower() or "stop" in fake.texts[1].body.lower()
        assert await running.recorded.opt_outs(phone=CALLER, active=True, source="keyword")
        await story.missed_call(CALLER)
        # Another caller opted out at the carrier: Vonage accepts the text, then its receipt
        # says err-code 9. The hub records the opt-out and stops texting them too.
        message = await texted_back(running, fake, story, other)
        receipt = story.webhooks.delivery_receipt(
            message.provider_message_id, "failed", err_code="9", to=other
        )
        assert (await receipt.send(running.client)).status_code == 204
        await running.wait_for(
            lambda: any(n.kind == "cannot_text" for n in running.outbox.notifications)
        )
        opt_out = await running.recorded.opt_out(other)
        assert opt_out.active and opt_out.source == "provider_error"
        stored = await running.recorded.message(message.id)
        assert stored.status == "undelivered" and stored.error_code == "9"
        await story.missed_call(other)
        await running.run_due_jobs()
        assert len(fake.texts) == 3  # text-back, STOP confirmation, text-back; nothing after


async def test_messages_api_opt_out_and_unreachable_statuses(hub_dir, fake):
    other = "+15125550178"
    async with vonage_hub(hub_dir, fake, api="messages") as (running, story):
        first = await texted_back(running, fake, story, CALLER)
        second = await texted_back(running, fake, story, other)
        hooks = story.webhooks
        await hooks.message_status(first.provider_message_id, "rejected", error_code="1240").send(
            running.client
        )
        await hooks.message_status(
            second.provider_message_id, "undeliverable", error_code="1250", to=other
        ).send(running.client)
        assert await running.recorded.opt_outs(phone=CALLER, active=True, source="provider_error")
        assert (await running.recorded.contact(other)).can_receive_sms is False
        assert (await running.recorded.message(first.id)).status == "failed"
        assert (await running.recorded.message(second.id)).status == "undelivered"


async def test_landline_like_receipt_marks_the_number_as_unable_to_text(hub_dir, fake):
    async with vonage_hub(hub_dir, fake) as (running, story):
        message = await texted_back(running, fake, story)
        receipt = story.webhooks.delivery_receipt(
            message.provider_message_id, "failed", err_code="11", shape="form"
        )
        assert (await receipt.send(running.client)).status_code == 204
        assert (await running.recorded.contact(CALLER)).can_receive_sms is False
        assert (await running.recorded.message(message.id)).status == "undelivered"


async def test_story_receipts_follow_the_api_that_sent(hub_dir, fake):
    for api in ("sms", "messages"):
        (hub_dir / api).mkdir()
        async with vonage_hub(hub_dir / api, fake, api=api) as (running, story):
            message = await texted_back(running, fake, story)
            await story.delivery_receipt(fake.texts[-1], "delivered")
            assert (await running.recorded.message(message.id)).status == "delivered"


@pytest.mark.parametrize("api", ["sms", "messages"])
async def test_status_callbacks_out_of_order_only_move_forward(hub_dir, fake, api):
    async with vonage_hub(hub_dir, fake, api=api) as (running, story):
        message = await texted_back(running, fake, story)
        hooks = story.webhooks
        if api == "sms":
            late = [
                hooks.delivery_receipt(message.provider_message_id, "delivered"),
                hooks.delivery_receipt(message.provider_message_id, "accepted"),
                hooks.delivery_receipt(message.provider_message_id, "buffered", shape="get"),
            ]
        else:
            late = [
                hooks.message_status(message.provider_message_id, "delivered"),
                hooks.message_status(message.provider_message_id, "submitted"),
            ]
        random.Random(4).shuffle(late[1:])
        for request in late:
            assert (await request.send(running.client)).status_code == 204
        assert (await running.recorded.message(message.id)).status == "delivered"


@pytest.mark.parametrize("api", ["sms", "messages"])
async def test_a_vonage_that_hangs_is_given_up_on_at_the_configured_timeout(hub_dir, fake, api):
    fake.answer_delay = 30  # takes the text, then does not answer
    config = write_config(hub_dir, {"acme": vonage_business(fake, api=api, sender={"timeout": 1})})
    hub = make_hub(config)
    sender = hub.senders("acme")[0]
    sms = OutboundSms("text_back:1#1", "+15125550123", "Sorry we missed you", "+15125550100")
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(sender.send(sms), 10)
    finally:
        await sender.close()
    assert time.monotonic() - started < 5
    assert result.status == SendStatus.RETRY
    assert len(fake.texts) == 1  # Vonage took it, once: a timed-out read is not re-sent
    assert fake.texts[0].client_ref == "text_back:1#1"  # our reference rides on the send
