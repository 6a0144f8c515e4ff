"""Whole conversations in an in-process hub whose jobber sink talks to the fake Jobber, after
the owner connected through the hub's own routes."""

from __future__ import annotations

import json

from hub_jobber import JobberSink
from hub_jobber.testing import ENCRYPTION_KEY, connect, jobber_sink

from hub.testing import ScriptedResponse, WebhookRequest, business, in_process_hub, write_config


def jobber_hub(hub_dir, fake, **settings):
    sinks = [{"use": "memory"}, jobber_sink(fake, **settings)]
    return in_process_hub(
        write_config(hub_dir, {"acme": business(sinks=sinks, text_back={"delay": 0})})
    )


def the_sink(kit) -> JobberSink:
    [sink] = [s for s in kit.hub.sinks("acme") if isinstance(s, JobberSink)]
    return sink


async def connected(kit, fake):
    answer = await connect(kit.client, fake, the_sink(kit).connector.connect_url())
    assert answer.status_code == 200, answer.text
    assert "Acme Plumbing" in answer.text
    return the_sink(kit)


async def test_a_missed_call_and_two_replies_are_one_client_one_request_and_notes(
    hub_dir, fake_jobber
):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connected(kit, fake_jobber)
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.text_in("water heater is leaking, 78704, this is Dana")
        await kit.run_due_jobs()
        await kit.text_in("<b>after 3pm</b> please")
        await kit.run_due_jobs()
        await kit.advance(hours=24)
        lead = await kit.recorded.lead()
        detail = await kit.recorded.lead_detail(lead.id)
    assert len(fake_jobber.clients) == 1
    [client] = fake_jobber.clients.values()
    assert client.fields["phones"] == [{"number": "+15125550123", "primary": True}]
    [request] = fake_jobber.requests_made.values()
    assert request.fields["clientId"] == client.id
    assert request.fields["title"].endswith(f"(hub lead #{lead.id})")
    details = request.notes[0]
    assert "Phone: +15125550123" in details and "After hours:" in details
    texts = [n for n in request.notes if n.startswith("Customer texted:")]
    assert texts == [
        "Customer texted: water heater is leaking, 78704, this is Dana",
        "Customer texted: <b>after 3pm</b> please",
    ]
    assert any(n.startswith("Updated in the hub") and "78704" in n for n in request.notes)
    jobber = [d for d in detail.deliveries if d.sink == "jobber"]
    assert {d.status for d in jobber} == {"delivered"}
    notes = [e.detail for e in detail.timeline if e.kind == "note" and e.actor == "jobber"]
    assert notes == [
        {
            "text": f"Jobber request {request.id} (client {client.id})",
            "url": f"https://secure.getjobber.com/requests/{request.id}",
        }
    ]
    versions = {r.headers["x-jobber-graphql-version"] for r in fake_jobber.graphql_requests}
    assert versions == {"2025-04-16"}


async def test_a_repeat_caller_a_week_later_is_the_same_client_with_a_new_request(
    hub_dir, fake_jobber
):
    fake_jobber.search_lag = 3600  # Jobber's search never shows the client in this test
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connected(kit, fake_jobber)
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        first = await kit.recorded.lead()
        await kit.hub.leads.set_status(first.id, "closed", actor="owner")
        await kit.run_due_jobs()
        await kit.advance(days=7)
        await kit.post_call(id="call-2")
        await kit.run_due_jobs()
        await kit.advance(hours=1)
    assert len(fake_jobber.clients) == 1
    requests = list(fake_jobber.requests_made.values())
    assert len(requests) == 2
    assert {r.fields["clientId"] for r in requests} == set(fake_jobber.clients)


async def test_429_then_500_then_200_makes_exactly_one_request(hub_dir, fake_jobber):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connected(kit, fake_jobber)
        fake_jobber.script(
            ScriptedResponse(status=429, body={"message": "Too Many Requests"}),
            ScriptedResponse(status=500, body={"message": "Internal Server Error"}),
        )
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        assert fake_jobber.requests_made == {}
        await kit.advance(minutes=5)
        await kit.advance(hours=24)
    assert len(fake_jobber.clients) == 1 and len(fake_jobber.requests_made) == 1
    assert len(fake_jobber.graphql_requests) >= 4  # the 429, the 500, the search, the creates


async def test_a_request_created_but_answered_500_is_found_not_made_again(hub_dir, fake_jobber):
    """Jobber made the request, the answer was lost: the retry finds it by its title."""
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        sink = await connected(kit, fake_jobber)
        await kit.post_call(id="call-1")
        lead = await kit.recorded.lead()
        fake_jobber.lose_next_answer("requestCreate")
        await kit.run_due_jobs()
        assert len(fake_jobber.requests_made) == 1
        await kit.advance(minutes=10)
        await kit.advance(hours=24)
        assert await sink.context.state.get(f"lead:{lead.id}:request") is not None
    assert len(fake_jobber.requests_made) == 1


async def test_a_throttled_query_backs_off_by_the_restore_rate(hub_dir, fake_jobber):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connected(kit, fake_jobber)
        fake_jobber.restore_rate = 1.0
        fake_jobber.spend(10000)  # another business of the account spent the budget
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
        detail = await kit.recorded.lead_detail(lead.id)
        [created] = [d for d in detail.deliveries if d.sink == "jobber"]
        assert (created.status, created.attempts) == ("pending", 1)
        assert "throttled" in (created.error or "")
        fake_jobber.available = fake_jobber.maximum  # Jobber restored it meanwhile
        await kit.advance(seconds=50)
        assert fake_jobber.requests_made == {}  # 62 points at 1 a second: not before ~62 s
        await kit.advance(seconds=20)
        assert len(fake_jobber.requests_made) == 1
        await kit.advance(hours=24)
    assert len(fake_jobber.requests_made) == 1


async def test_a_signed_visit_webhook_books_the_lead_and_an_unsigned_one_is_refused(
    hub_dir, fake_jobber
):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connected(kit, fake_jobber)
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        [request_id] = fake_jobber.requests_made
        visit = fake_jobber.schedule_visit(request_id)
        hook = fake_jobber.webhook(str(kit.client.base_url), "acme", "VISIT_CREATE", visit)

        unsigned = await hook.with_headers(**{"X-Jobber-Hmac-SHA256": ""}).send(kit.client)
        forged = await hook.with_headers(**{"X-Jobber-Hmac-SHA256": "AAAA"}).send(kit.client)
        altered = await WebhookRequest("POST", hook.url, hook.headers, b"{}").send(kit.client)
        huge = await WebhookRequest("POST", hook.url, hook.headers, b"x" * 70000).send(kit.client)
        assert (unsigned.status_code, forged.status_code) == (401, 403)
        assert altered.status_code == 403  # the signature covers the body
        assert huge.status_code == 413
        await kit.run_due_jobs()
        assert (await kit.recorded.lead()).status == "new"

        answer = await hook.send(kit.client)
        again = await hook.send(kit.client)  # Jobber delivers at least once
        assert answer.status_code == again.status_code == 200
        await kit.run_due_jobs()
        assert (await kit.recorded.lead()).status == "booked"

        job_id = next(iter(fake_jobber.jobs))
        fake_jobber.close_job(job_id)
        closed = fake_jobber.webhook(str(kit.client.base_url), "acme", "JOB_UPDATE", job_id)
        assert (await closed.send(kit.client)).status_code == 200
        await kit.run_due_jobs()
        await kit.advance(hours=1)
        lead = await kit.recorded.lead(status="closed")
        [request] = fake_jobber.requests_made.values()
    assert lead.status == "closed"
    # Our own moves are not echoed back to Jobber as notes.
    assert not any(n.startswith("Status in the hub") for n in request.notes)


async def test_a_malformed_signed_webhook_is_a_4xx(hub_dir, fake_jobber):
    import base64
    import hashlib
    import hmac

    async with jobber_hub(hub_dir, fake_jobber) as kit:
        for body in (b"{}", b"not json", json.dumps({"data": {"webHookEvent": []}}).encode()):
            digest = hmac.new(fake_jobber.client_secret.encode(), body, hashlib.sha256).digest()
            answer = await kit.client.post(
                "/hooks/acme/jobber/webhooks",
                content=body,
                headers={"X-Jobber-Hmac-SHA256": base64.b64encode(digest).decode()},
            )
            assert answer.status_code == 400, body


async def test_tokens_are_sealed_in_the_state_and_no_secret_is_shown(hub_dir, fake_jobber):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        sink = await connected(kit, fake_jobber)
        record = await sink.context.state.get("connection")
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
        detail = await kit.recorded.lead_detail(lead.id)
    raw = json.dumps(record)
    secrets = [*fake_jobber.access_tokens, *fake_jobber.refresh_tokens, *fake_jobber.rotated]
    secrets += [fake_jobber.client_secret, ENCRYPTION_KEY]
    assert secrets and not any(s in raw for s in secrets)
    shown = repr(sink) + repr(sink.config) + repr(sink.connection) + str(detail)
    assert not any(s in shown for s in secrets)
