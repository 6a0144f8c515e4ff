"""Whole conversations in an in-process hub whose housecall sink writes to the fake Housecall
Pro."""

from __future__ import annotations

import asyncio

from hub_housecall.testing import housecall_sink

from hub.testing import ScriptedResponse, business, in_process_hub, run_cli, write_config

ON = ["lead.created", "lead.updated", "lead.status_changed", "message.received"]


def housecall_hub(hub_dir, fake_housecall, **settings):
    sinks = [{"use": "memory"}, housecall_sink(fake_housecall, on=ON, **settings)]
    config = write_config(hub_dir, {"acme": business(sinks=sinks, text_back={"delay": 0})})
    kit = in_process_hub(config)
    fake_housecall.clock = lambda: kit.clock.now().timestamp()
    return kit


async def settle(kit, minutes=30):
    """Let every retry come due, a minute at a time."""
    for _ in range(minutes):
        await kit.advance(minutes=1)


async def test_a_missed_call_and_two_replies_are_one_lead_with_notes(hub_dir, fake_housecall):
    async with housecall_hub(hub_dir, fake_housecall) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
        await kit.text_in("water heater is leaking, 78704, this is Dana")
        await kit.run_due_jobs()
        await kit.text_in("after 3pm please")
        await kit.run_due_jobs()
        await kit.hub.leads.set_status(lead.id, "booked", actor="owner")
        await settle(kit)
        detail = await kit.recorded.lead_detail(lead.id)
    ((customer_id, customer),) = fake_housecall.customers.items()
    ((housecall_id, housecall_lead),) = fake_housecall.leads.items()
    assert customer["mobile_number"] == "5125550123"
    assert housecall_lead["customer"]["id"] == customer_id
    notes = fake_housecall.notes_of(customer_id)
    assert (
        f"The customer texted (lead #{lead.id}): water heater is leaking, 78704, this is Dana"
        in notes
    )
    assert f"The customer texted (lead #{lead.id}): after 3pm please" in notes
    assert any("ZIP: 78704" in note for note in notes)
    assert notes[-1] == f"Lead #{lead.id} is now booked in the hub"
    housecall = [d for d in detail.deliveries if d.sink == "housecall"]
    assert {d.status for d in housecall} == {"delivered"} and {d.kind for d in housecall} == set(ON)
    (note,) = [e for e in detail.timeline if e.kind == "note"]
    assert note.detail == {
        "text": f"Housecall Pro lead {housecall_id} created for customer {customer_id}",
        "url": f"https://pro.housecallpro.com/app/customers/{customer_id}",
    }


async def test_a_repeat_caller_a_week_later_is_the_same_customer_and_a_new_lead(
    hub_dir, fake_housecall
):
    fake_housecall.search_lag = None
    async with housecall_hub(hub_dir, fake_housecall) as kit:
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
    (customer_id,) = fake_housecall.customers
    assert len(fake_housecall.leads) == 2
    assert {lead["customer"]["id"] for lead in fake_housecall.leads.values()} == {customer_id}
    assert f"Lead #{first.id} is now closed in the hub" in fake_housecall.notes_of(customer_id)


async def test_429_then_500_then_200_is_exactly_one_customer_and_one_lead(hub_dir, fake_housecall):
    fake_housecall.script(
        ScriptedResponse(),  # the phone search goes through
        ScriptedResponse(
            status=429,
            body={"error": {"message": "Too many requests"}},
            headers={"Retry-After": "30"},
        ),
        ScriptedResponse(),  # the search again
        ScriptedResponse(status=500, body={"error": {"message": "Internal server error"}}),
    )
    async with housecall_hub(hub_dir, fake_housecall) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        assert fake_housecall.customers == {}
        await kit.advance(seconds=29)
        assert len(fake_housecall.requests) == 2  # Retry-After: 30 is honoured
        await settle(kit)
        lead = await kit.recorded.lead()
        detail = await kit.recorded.lead_detail(lead.id)
    assert len(fake_housecall.customers) == 1 and len(fake_housecall.leads) == 1
    (created,) = [
        d for d in detail.deliveries if d.sink == "housecall" and d.kind == "lead.created"
    ]
    assert created.status == "delivered" and created.attempts >= 3


async def test_a_revoked_key_tells_the_owner_once_and_is_not_retried(hub_dir, fake_housecall):
    fake_housecall.revoke(fake_housecall.api_key)
    async with housecall_hub(hub_dir, fake_housecall) as kit:
        await kit.post_call(id="call-1", caller="+15125550123")
        await kit.run_due_jobs()
        await kit.post_call(id="call-2", caller="+15125550124")
        await settle(kit, 60)
        leads = await kit.recorded.leads()
        details = [await kit.recorded.lead_detail(lead.id) for lead in leads]
        problems = [n for n in kit.outbox.notifications if n.kind == "problem"]
    housecall = [d for detail in details for d in detail.deliveries if d.sink == "housecall"]
    assert housecall and {(d.status, d.attempts) for d in housecall} == {("failed", 1)}
    assert len(fake_housecall.requests) == 2
    (problem,) = problems
    assert "Housecall Pro refused the API key (401)" in problem.text
    assert fake_housecall.api_key not in problem.text


async def test_hub_leads_show_prints_the_lead_and_its_link(hub_dir, fake_housecall):
    async with housecall_hub(hub_dir, fake_housecall) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
    (housecall_id,) = fake_housecall.leads
    (customer_id,) = fake_housecall.customers
    sinks = [housecall_sink(fake_housecall, on=ON)]
    config = write_config(hub_dir, {"acme": business(sinks=sinks, sms_sender={"use": "console"})})
    shown = await asyncio.to_thread(run_cli, "leads", "show", str(lead.id), "--config", str(config))
    assert shown.returncode == 0, shown.output
    assert f"Housecall Pro lead {housecall_id} created for customer {customer_id}" in shown.stdout
    assert f"https://pro.housecallpro.com/app/customers/{customer_id}" in shown.stdout
    assert fake_housecall.api_key not in shown.output
