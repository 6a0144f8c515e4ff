"""Whole conversations in an in-process hub whose hubspot sink writes to the fake HubSpot."""

from __future__ import annotations

import asyncio

from hub_hubspot.testing import PORTAL_ID, hubspot_sink

from hub.testing import ScriptedResponse, business, in_process_hub, run_cli, write_config

ON = ["lead.created", "lead.updated", "lead.status_changed", "message.received"]
RATE_LIMITED = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
}


def hubspot_hub(hub_dir, fake_hubspot, **settings):
    sinks = [{"use": "memory"}, hubspot_sink(fake_hubspot, on=ON, **settings)]
    config = write_config(hub_dir, {"acme": business(sinks=sinks, text_back={"delay": 0})})
    kit = in_process_hub(config)
    fake_hubspot.clock = lambda: kit.clock.now().timestamp()  # its search lags in hub time
    return kit


async def settle(kit, minutes=30):
    """Let every retry come due, a minute at a time."""
    for _ in range(minutes):
        await kit.advance(minutes=1)


async def test_a_missed_call_and_two_replies_are_one_deal_with_notes(hub_dir, fake_hubspot):
    async with hubspot_hub(hub_dir, fake_hubspot) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
        await kit.text_in("water heater is leaking, 78704, this is Dana")
        await kit.run_due_jobs()
        await kit.text_in("after 3pm please <img src=x onerror=alert(1)>")
        await kit.run_due_jobs()
        await kit.hub.leads.set_status(lead.id, "booked", actor="owner")
        await settle(kit)
        detail = await kit.recorded.lead_detail(lead.id)
    (contact,) = fake_hubspot.contacts()
    (deal,) = fake_hubspot.deals()
    assert contact.properties["phone"] == "+15125550123"
    assert fake_hubspot.contact_of(deal) == contact.id
    assert deal.properties["dealstage"] == "closedwon"  # booked
    bodies = [note.properties["hs_note_body"] for note in fake_hubspot.notes_on(deal.id)]
    assert any("water heater is leaking, 78704, this is Dana" in body for body in bodies)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in body for body in bodies)
    assert any("ZIP: 78704" in body for body in bodies)
    assert not any("<img" in body for body in bodies)
    hubspot = [d for d in detail.deliveries if d.sink == "hubspot"]
    assert {d.status for d in hubspot} == {"delivered"}
    assert {d.kind for d in hubspot} == set(ON)
    (note,) = [e for e in detail.timeline if e.kind == "note"]
    assert note.detail == {
        "text": f"HubSpot deal {deal.id} created on contact {contact.id}",
        "url": f"https://app.hubspot.com/contacts/{PORTAL_ID}/record/0-3/{deal.id}",
    }


async def test_a_repeat_caller_a_week_later_is_the_same_contact_and_a_new_deal(
    hub_dir, fake_hubspot
):
    fake_hubspot.search_lag = None  # search never catches up: what the sink remembers counts
    async with hubspot_hub(hub_dir, fake_hubspot) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        first = await kit.recorded.lead()
        await kit.hub.leads.set_status(first.id, "closed", actor="owner")
        await kit.run_due_jobs()
        await kit.advance(days=7)
        await kit.post_call(id="call-2")
        await settle(kit, 3)
        leads = await kit.recorded.leads()
    assert len(leads) == 2
    (contact,) = fake_hubspot.contacts()
    first_deal, second_deal = fake_hubspot.deals()
    assert first_deal.properties["dealstage"] == "closedlost"
    assert second_deal.properties["dealstage"] == "appointmentscheduled"
    assert {fake_hubspot.contact_of(d) for d in (first_deal, second_deal)} == {contact.id}


async def test_429_then_500_then_200_is_exactly_one_contact_and_one_deal(hub_dir, fake_hubspot):
    fake_hubspot.script(
        ScriptedResponse(),  # the phone search goes through
        ScriptedResponse(status=429, body=RATE_LIMITED),  # the contact's create: limited
        ScriptedResponse(),  # the search again
        ScriptedResponse(status=500, body={"status": "error", "message": "internal error"}),
    )
    async with hubspot_hub(hub_dir, fake_hubspot) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        assert fake_hubspot.contacts() == []
        await settle(kit)
        lead = await kit.recorded.lead()
        detail = await kit.recorded.lead_detail(lead.id)
    assert len(fake_hubspot.contacts()) == 1 and len(fake_hubspot.deals()) == 1
    (created,) = [d for d in detail.deliveries if d.sink == "hubspot" and d.kind == "lead.created"]
    assert created.status == "delivered" and created.attempts >= 3


async def test_a_revoked_token_tells_the_owner_once_and_is_not_retried(hub_dir, fake_hubspot):
    fake_hubspot.revoke(fake_hubspot.token)
    async with hubspot_hub(hub_dir, fake_hubspot) as kit:
        await kit.post_call(id="call-1", caller="+15125550123")
        await kit.run_due_jobs()
        await kit.post_call(id="call-2", caller="+15125550124")
        await settle(kit, 60)
        leads = await kit.recorded.leads()
        details = [await kit.recorded.lead_detail(lead.id) for lead in leads]
        problems = [n for n in kit.outbox.notifications if n.kind == "problem"]
    hubspot = [d for detail in details for d in detail.deliveries if d.sink == "hubspot"]
    assert hubspot and {(d.status, d.attempts) for d in hubspot} == {("failed", 1)}
    assert len(fake_hubspot.requests) == 2  # one request per lead, then nothing ever again
    (problem,) = problems
    assert "HubSpot refused the access token (401)" in problem.text
    assert "put it in hub.yaml's token" in problem.text
    assert fake_hubspot.token not in problem.text


async def test_hub_leads_show_prints_the_deal_and_its_link(hub_dir, fake_hubspot):
    async with hubspot_hub(hub_dir, fake_hubspot) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
    (deal,) = fake_hubspot.deals()
    sinks = [hubspot_sink(fake_hubspot, on=ON)]
    config = write_config(hub_dir, {"acme": business(sinks=sinks, sms_sender={"use": "console"})})
    shown = await asyncio.to_thread(run_cli, "leads", "show", str(lead.id), "--config", str(config))
    assert shown.returncode == 0, shown.output
    assert f"HubSpot deal {deal.id} created" in shown.stdout
    assert f"https://app.hubspot.com/contacts/{PORTAL_ID}/record/0-3/{deal.id}" in shown.stdout
    assert fake_hubspot.token not in shown.output
