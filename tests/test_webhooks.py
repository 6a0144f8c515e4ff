"""A missed call reported through the generic webhook, end to end through the web app."""

from __future__ import annotations

import asyncio

from hub.models import Call, Delivery, Lead, Message
from hub.testing import business, in_process_hub, signed_call, write_config


async def test_missed_call_is_texted_back_and_owner_notified(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        memory = running.outbox
        response = await running.post_call(id="c1", caller="+15125550123")
        assert response.status_code == 200
        assert response.json()["status"] == "scheduled"
        await running.run_due_jobs()
        assert memory.notifications

        assert [t.to for t in memory.texts] == ["+15125550123"]
        assert "Acme Plumbing" in memory.texts[0].body
        assert "STOP" in memory.texts[0].body
        assert memory.texts[0].sender_number == "+15125550100"
        lead = await Lead.get(phone="+15125550123")
        assert lead.status == "new" and lead.call_count == 1
        assert memory.notifications[0].lead.id == lead.id
        assert "+15125550123" in memory.notifications[0].subject
        message = await Message.get(lead_id=lead.id)
        assert message.status == "sent" and message.provider == "memory"
        assert await Delivery.filter(lead_id=lead.id, status="delivered").count() == 1


async def test_same_call_delivered_three_times_at_once_texts_once(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        memory = running.outbox
        body, headers = signed_call(id="dup-1")
        responses = await asyncio.gather(
            *(
                running.client.post("/hooks/acme/generic/call", content=body, headers=headers)
                for _ in range(3)
            )
        )
        assert sorted(r.json()["status"] for r in responses) == [
            "duplicate",
            "duplicate",
            "scheduled",
        ]
        await running.run_due_jobs()
        assert memory.notifications
        assert len(memory.texts) == 1
        assert await Call.all().count() == 1
        assert len(memory.notifications) == 1


async def test_repeat_call_attaches_to_the_open_lead(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        memory = running.outbox
        await running.post_call(id="a")
        await running.run_due_jobs()
        assert len(memory.notifications) == 1
        second = await running.post_call(id="b")
        assert second.json()["skipped"] == "cooldown"  # one text per caller per day
        await running.run_due_jobs()
        assert len(memory.texts) == 1
        leads = await Lead.all()
        assert len(leads) == 1 and leads[0].call_count == 2
        calls = await Call.all().order_by("id")
        assert leads[0].first_call_at == calls[0].at and leads[0].last_call_at == calls[1].at
        assert await Call.filter(lead_id=leads[0].id).count() == 2


async def test_unsigned_or_badly_signed_call_is_refused_and_not_stored(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        memory = running.outbox
        body, headers = signed_call(id="x")
        unsigned = await running.client.post(
            "/hooks/acme/generic/call", content=body, headers={"Content-Type": "application/json"}
        )
        assert unsigned.status_code == 401
        forged = await running.post_call(secret="not-the-secret-at-all", id="y")
        assert forged.status_code == 403
        tampered = await running.client.post(
            "/hooks/acme/generic/call",
            content=body.replace(b"+1512555", b"+1737555"),
            headers=headers,
        )
        assert tampered.status_code == 403
        assert await Call.all().count() == 0
        assert memory.texts == []


async def test_malformed_call_bodies_get_clear_errors(hub_dir):
    from hub.defaults.generic import SIGNATURE_HEADER, sign
    from hub.testing import DEFAULT_SECRET

    async with in_process_hub(write_config(hub_dir)) as running:
        for body, expected in [
            (b"not json", "not JSON"),
            (b'{"id": "1", "to": "+15125550100", "outcome": "dropped"}', "outcome"),
            (b'{"to": "+15125550100"}', "`id`"),
            (b'{"id": "1", "to": "+15125550100", "at": "yesterday"}', "`at`"),
        ]:
            response = await running.client.post(
                "/hooks/acme/generic/call",
                content=body,
                headers={SIGNATURE_HEADER: sign(DEFAULT_SECRET, body)},
            )
            assert response.status_code == 400, body
            assert expected in response.text
        assert await Call.all().count() == 0


async def test_call_to_a_number_the_business_does_not_own_is_refused(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        response = await running.post_call(to="+15125559999")
        assert response.status_code == 403
        assert "not a number of business" in response.text
        assert await Call.all().count() == 0


async def test_unknown_business_or_plugin_is_404(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        assert (await running.post_call(business="nobody")).status_code == 404
        response = await running.client.post("/hooks/acme/twilio/voice")
        assert response.status_code == 404


async def test_guards_skip_the_text_but_keep_the_record(hub_dir):
    async with in_process_hub(
        write_config(hub_dir, {"acme": business(forward_to="+15125550199")})
    ) as running:
        memory = running.outbox
        cases = {
            "answered": dict(outcome="answered"),
            "anonymous": dict(caller="anonymous"),
            "withheld": dict(caller=None),
            "own": dict(caller="+15125550100"),
            "forward": dict(caller="+15125550199"),
        }
        for call_id, fields in cases.items():
            response = await running.post_call(id=call_id, **fields)
            assert response.json()["status"] == "recorded", call_id
        calls = {c.provider_call_id: c.skipped_reason for c in await Call.all()}
        assert calls == {
            "answered": "answered",
            "anonymous": "anonymous",
            "withheld": "anonymous",
            "own": "own_number",
            "forward": "own_number",
        }
        await running.run_due_jobs()
        assert memory.texts == []
        assert await Lead.all().count() == 0


async def test_health_and_readiness(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        assert (await running.client.get("/healthz")).json() == {"status": "ok"}
        assert (await running.client.get("/readyz")).json() == {"status": "ready"}
        # The setup page moved to /setup, behind sign-in (tests/dashboard).
        page = await running.client.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"


async def test_a_late_voicemail_is_attached_to_its_call(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        await running.post_call(id="vm-1")
        source = running.hub.providers["acme"].call_source
        assert await source.context.attach_recording("vm-1", "https://example.com/vm-1.mp3")
        assert not await source.context.attach_recording(
            "no-such-call", "https://example.com/x.mp3"
        )
        assert (
            await Call.get(provider_call_id="vm-1")
        ).recording_url == "https://example.com/vm-1.mp3"


def _signed(data: dict, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    import json

    from hub.defaults.generic import SIGNATURE_HEADER, sign
    from hub.testing import DEFAULT_SECRET

    body = json.dumps(data).encode()
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret or DEFAULT_SECRET, body),
    }


async def test_generic_texts_and_delivery_reports_drive_the_whole_conversation(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        await running.post_call(id="c1", caller="+15125550123")
        await running.run_due_jobs()
        [text_back] = await running.recorded.messages(direction="out")
        body, headers = _signed(
            {
                "id": "gw-1",
                "from": "+15125550123",
                "to": "+15125550100",
                "text": "water heater is leaking, 78704, this is Dana",
                "at": "2026-11-26T14:03:00-06:00",
            }
        )
        reply = await running.client.post("/hooks/acme/generic/sms", content=body, headers=headers)
        assert reply.status_code == 200, reply.text
        again = await running.client.post("/hooks/acme/generic/sms", content=body, headers=headers)
        assert again.status_code == 200  # a retried webhook is harmless
        await running.run_due_jobs()
        [lead] = await running.recorded.leads()
        assert lead.zip == "78704" and lead.name == "Dana"
        inbound = await running.recorded.messages(direction="in")
        assert [m.provider for m in inbound] == ["generic"]

        report, headers = _signed(
            {
                "id": "gw-2",
                "message_id": text_back.provider_message_id,
                "status": "delivered",
                "error_code": None,
            }
        )
        status = await running.client.post(
            "/hooks/acme/generic/sms-status", content=report, headers=headers
        )
        assert status.status_code == 200, status.text
        assert (await running.recorded.message(text_back.id)).status == "delivered"


async def test_generic_text_routes_refuse_bad_input_with_4xx_and_store_nothing(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        good = {"id": "t1", "from": "+15125550123", "to": "+15125550100", "text": "hi"}
        body, headers = _signed(good)
        unsigned = await running.client.post(
            "/hooks/acme/generic/sms", content=body, headers={"Content-Type": "application/json"}
        )
        assert unsigned.status_code == 401
        _, forged = _signed(good, secret="not-the-secret-at-all")
        wrong = await running.client.post("/hooks/acme/generic/sms", content=body, headers=forged)
        assert wrong.status_code == 403
        huge, huge_headers = _signed({**good, "text": "x" * 70_000})
        too_big = await running.client.post(
            "/hooks/acme/generic/sms", content=huge, headers=huge_headers
        )
        assert too_big.status_code == 413
        for route, data, expected in [
            ("sms", {**good, "text": None}, "`text`"),
            ("sms", {**good, "id": ""}, "`id`"),
            ("sms", {**good, "from": 5}, "`from`"),
            ("sms", {**good, "to": "+15125559999"}, "not a number of business"),
            ("sms", {**good, "at": "yesterday"}, "`at`"),
            ("sms", [good], "JSON object"),
            ("sms-status", {"id": "s", "message_id": "m", "status": "lost"}, "`status`"),
            ("sms-status", {"id": "s", "status": "delivered"}, "`message_id`"),
            (
                "sms-status",
                {"id": "s", "message_id": "m", "status": "sent", "error_code": []},
                "error_code",
            ),
        ]:
            body, headers = _signed(data)  # type: ignore[arg-type]
            response = await running.client.post(
                f"/hooks/acme/generic/{route}", content=body, headers=headers
            )
            assert 400 <= response.status_code < 500, (route, data, response.status_code)
            assert expected in response.text, (route, data, response.text)
        not_json = b"{"
        _, headers = _signed({})
        from hub.defaults.generic import SIGNATURE_HEADER, sign
        from hub.testing import DEFAULT_SECRET

        headers[SIGNATURE_HEADER] = sign(DEFAULT_SECRET, not_json)
        response = await running.client.post(
            "/hooks/acme/generic/sms-status", content=not_json, headers=headers
        )
        assert response.status_code == 400
        assert await running.recorded.messages() == []
        assert await running.recorded.leads() == []
