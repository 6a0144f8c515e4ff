"""Web-form leads through plain HTTP on an in-process hub: the same pipeline as a call
(source `web form`, events, the owner's summary, repeat customers by phone), a text only with
consent, and the guards of a public endpoint (origin, rate, size, honeypot, malformed input)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.events import EventKind
from hub.testing import business, in_process_hub, write_config

SITE = "https://www.acme.example"
MIRROR = ["lead.created", "lead.updated", "notify.summary", "notify.new_lead", "notify.urgent"]


@pytest.fixture
def config(hub_dir: Path) -> Path:
    return write_config(
        hub_dir,
        {
            "acme": business(
                numbers=["+15125550100", {"number": "+15125550101", "source": "Yard signs"}],
                sinks=[{"use": "memory", "on": MIRROR}],
                forms={"allowed_origins": [SITE], "per_ip_per_hour": 5},
                services={"water heater": ["water heater"], "drain cleaning": ["drain"]},
            ),
            "bolt": business("Bolt Electric", ["+15125550200"]),
        },
    )


FORM = {
    "name": "Dana",
    "phone": "(512) 555-0123",
    "email": "dana@example.com",
    "message": "water heater is leaking, 78704, after 5 is best",
    "consent": "on",
    "website": "",
}


async def post(kit, data=None, *, business="acme", **headers):
    return await kit.client.post(
        f"/forms/{business}",
        data=FORM if data is None else data,
        headers={"Origin": SITE, **headers},
    )


async def test_a_submission_is_a_lead_from_the_web_form_through_the_whole_pipeline(config):
    async with in_process_hub(config) as kit:
        response = await post(kit)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "Thank you, Dana!" in response.text and "Acme Plumbing" in response.text
        assert response.headers["access-control-allow-origin"] == SITE
        await kit.run_due_jobs()
        [lead] = (await kit.hub.reads.leads()).leads
        assert (lead.source, lead.caller, lead.name, lead.email) == (
            "web form", "+15125550123", "Dana", "dana@example.com",
        )  # fmt: skip
        # The message was read like a first reply.
        assert (lead.service, lead.zip, lead.callback_start is not None) == (
            "water heater",
            "78704",
            True,
        )
        assert lead.customer_words == ("water heater is leaking, 78704, after 5 is best",)
        kinds = [event.kind for event in kit.outbox.events]
        assert EventKind.LEAD_CREATED in kinds and EventKind.NOTIFY_SUMMARY in kinds
        created = next(e for e in kit.outbox.events if e.kind == EventKind.LEAD_CREATED)
        assert created.lead.source == "web form"
        [summary] = [n for n in kit.outbox.notifications if n.kind == "summary"]
        assert "Source:    web form" in summary.text and "dana@example.com" in summary.text
        [text] = kit.outbox.texts
        assert (
            text.to == "+15125550123" and "Thanks for your request about water heater" in text.body
        )


async def test_no_consent_no_text_and_json_when_asked(config):
    async with in_process_hub(config) as kit:
        data = {**FORM, "consent": ""}
        response = await post(kit, data, Accept="application/json")
        assert response.status_code == 200
        assert response.json()["status"] == "received"
        await kit.run_due_jobs()
        assert kit.outbox.texts == []
        assert [n.kind for n in kit.outbox.notifications] == ["summary"]


async def test_a_repeat_caller_is_matched_by_phone(config):
    async with in_process_hub(config) as kit:
        called = await kit.post_call(caller="+15125550123", to="+15125550101")
        lead_id = called.json()["lead_id"]
        await kit.run_due_jobs()
        kit.outbox.clear()
        response = await post(kit, {**FORM, "service": "drain cleaning", "consent": ""})
        assert response.status_code == 200
        await kit.run_due_jobs()
        [lead] = (await kit.hub.reads.leads()).leads
        assert lead.id == lead_id and lead.call_count == 1
        assert lead.source == "Yard signs"  # the number that brought them in first
        assert lead.service == "drain cleaning"  # what they typed wins over the parser's reading
        updated = [e for e in kit.outbox.events if e.kind == EventKind.LEAD_UPDATED]
        assert updated and updated[0].changes["name"].after == "Dana"
        assert kit.outbox.texts == []


async def test_a_caller_from_a_labelled_number_carries_its_source_to_the_notification(config):
    async with in_process_hub(config) as kit:
        await kit.post_call(caller="+15125550177", to="+15125550101")
        await kit.run_due_jobs()
        [lead] = (await kit.hub.reads.leads()).leads
        assert lead.source == "Yard signs"
        [created] = [e for e in kit.outbox.events if e.kind == EventKind.LEAD_CREATED]
        assert created.lead.source == "Yard signs"
        [note] = [n for n in kit.outbox.notifications if n.kind == "new_lead"]
        assert "Source: Yard signs" in note.text


async def test_the_honeypot_stores_nothing_and_answers_like_a_success(config):
    async with in_process_hub(config) as kit:
        response = await post(kit, {**FORM, "website": "http://spam.example"})
        assert response.status_code == 200 and "Thank you" in response.text
        await kit.run_due_jobs()
        assert (await kit.hub.reads.leads()).leads == []
        assert kit.outbox.events == [] and kit.outbox.texts == []


async def test_origins_cors_and_forms_that_do_not_exist(config):
    async with in_process_hub(config) as kit:
        evil = await post(kit, Origin="https://evil.example")
        assert evil.status_code == 403
        assert "access-control-allow-origin" not in evil.headers
        null = await post(kit, Origin="null")
        assert null.status_code == 403
        no_origin = await kit.client.post("/forms/acme", data=FORM)  # curl, a server
        assert no_origin.status_code == 200
        own = await post(kit, Origin="http://hub.test")  # the embed page's preview
        assert own.status_code == 200
        preflight = await kit.client.options(
            "/forms/acme",
            headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == SITE
        assert "POST" in preflight.headers["access-control-allow-methods"]
        refused = await kit.client.options(
            "/forms/acme", headers={"Origin": "https://evil.example"}
        )
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        for path in ("/forms/bolt", "/forms/nobody"):  # bolt has no `forms:`
            assert (await kit.client.post(path, data=FORM)).status_code == 404
            assert (await kit.client.get(f"{path}/embed")).status_code == 404
        await kit.run_due_jobs()
        assert {lead.business for lead in (await kit.hub.reads.leads()).leads} == {"acme"}


async def test_the_rate_limit_per_address(config):
    async with in_process_hub(config) as kit:
        statuses = [(await post(kit)).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = await post(kit, Accept="application/json")
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) > 0
        await kit.advance(hours=1)
        assert (await post(kit)).status_code == 200


async def test_oversized_and_malformed_bodies_are_4xx(config):
    async with in_process_hub(config) as kit:
        settings = kit.hub.config.businesses["acme"].forms
        assert settings is not None
        settings.per_ip_per_hour = 100  # this test posts many times
        huge = await kit.client.post(
            "/forms/acme",
            content=b"message=" + b"x" * 70_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert huge.status_code == 413

        async def streamed():
            for _ in range(100):
                yield b"x" * 1024

        chunked = await kit.client.post(
            "/forms/acme",
            content=streamed(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert chunked.status_code == 413
        cases = [
            ({"Content-Type": "application/json"}, b"{not json"),
            ({"Content-Type": "application/json"}, b"[1, 2]"),
            ({"Content-Type": "application/json"}, b'{"phone": {"a": 1}}'),
            ({"Content-Type": "application/x-www-form-urlencoded"}, b"name=%ff%fe"),
            ({"Content-Type": "text/plain"}, b"phone=5125550123"),
        ]
        for headers, body in cases:
            response = await kit.client.post("/forms/acme", content=body, headers=headers)
            assert 400 <= response.status_code < 500, (headers, body, response.status_code)
        invalid = [
            {**FORM, "phone": ""},
            {**FORM, "phone": "not a phone"},
            {**FORM, "email": "nope"},
            {**FORM, "zip": "<script>"},
            {**FORM, "name": "x" * 500},
            {**FORM, "consent": "maybe"},
        ]
        for data in invalid:
            response = await post(kit, data, Accept="application/json")
            assert response.status_code == 422, data
            assert response.json()["error"]["fields"]
        page = await post(kit, {**FORM, "zip": "<script>alert(1)</script>"})
        assert page.status_code == 422 and "<script>" not in page.text
        await kit.run_due_jobs()
        assert (await kit.hub.reads.leads()).leads == []


async def test_customer_words_are_escaped_on_the_thank_you_page(config):
    async with in_process_hub(config) as kit:
        response = await post(kit, {**FORM, "name": "<img src=x onerror=alert(1)>"})
        assert response.status_code == 200
        assert "<img" not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text


async def test_the_embed_page_and_its_script(config):
    async with in_process_hub(config) as kit:
        page = await kit.client.get("/forms/acme/embed")
        assert page.status_code == 200
        assert 'action="http://hub.test/forms/acme"' in page.text  # the live preview
        assert "&lt;form" in page.text  # the snippet to copy, escaped
        assert '<script src="http://hub.test/forms/hub-form.js" defer></script>' in page.text
        assert "<script>" not in page.text  # no inline script
        script = await kit.client.get("/forms/hub-form.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "data-hub-form" in script.text and "innerHTML" not in script.text
