"""The store's read layer, the one way a lead changes, and the one template context: driven
through the hub's own entry points, with the due jobs run by a worker drain (no waiting)."""

from __future__ import annotations

import pytest

from hub.models import LeadEvent, LeadStatus, Message
from hub.store.reads import LeadFilter
from hub.templating import check_templates
from hub.testing import MemoryOutbox, business, make_hub, throwaway_postgres, write_config
from hub.types import CallEvent, CallOutcome, InboundSms

NUMBER = "+15125550100"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    if request.param == "sqlite":
        yield "sqlite://hub.sqlite3"
        return
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def memory() -> MemoryOutbox:
    """The outbox of the hub ``started`` builds."""
    return MemoryOutbox()


async def started(hub_dir, memory, database="sqlite://hub.sqlite3", **settings):
    settings.setdefault("text_back", {"delay": 0})
    config = write_config(hub_dir, {"acme": business(**settings)}, database=database)
    hub = make_hub(config, outbox=memory)
    await hub.start(worker=False, migrate=True)
    return hub


async def call(hub, call_id: str, caller: str) -> None:
    acme = hub.config.businesses["acme"]
    await hub.receive_call(acme, "generic", CallEvent(call_id, caller, NUMBER, CallOutcome.MISSED))


async def test_a_template_using_lead_urgency_passes_the_check_and_sends(hub_dir, memory):
    text_back = "Thanks for calling {{ business.name }}. Urgency: {{ lead.urgency }}."
    hub = await started(hub_dir, memory, templates={"text_back": text_back})
    try:
        assert check_templates(hub.templates, hub.config.businesses["acme"]) == []
        await call(hub, "u-1", "+15125550111")
        await hub.make_worker().drain()
        [text] = memory.texts
        assert text.body.startswith("Thanks for calling Acme Plumbing. Urgency: None.")
    finally:
        await hub.stop()


async def test_hub_check_rejects_what_sending_would_reject(hub_dir, memory):
    hub = await started(
        hub_dir,
        memory,
        templates={
            "text_back": "Hi {{ lead.no_such_field }}",
            # The call is only given to the text-back: a nudge that uses it cannot render.
            "nudge": "About your call {{ call.id }}",
        },
    )
    try:
        issues = check_templates(hub.templates, hub.config.businesses["acme"])
        assert [(i.where, i.message.split(":")[0]) for i in issues] == [
            ("businesses.acme.templates.text_back", "unknown variable"),
            ("businesses.acme.templates.nudge", "unknown variable"),
        ]
    finally:
        await hub.stop()


async def test_reads_filter_page_and_count_leads(hub_dir, memory, database):
    hub = await started(hub_dir, memory, database)
    try:
        for index in range(3):
            await call(hub, f"c-{index}", f"+1512555011{index}")
        await call(hub, "c-again", "+15125550110")  # the first caller again: same lead
        await hub.make_worker().drain()
        acme = hub.config.businesses["acme"]
        await hub.receive_sms(
            acme, "memory", InboundSms("m-1", "+15125550111", NUMBER, "Leaking pipe, 78704")
        )
        await hub.make_worker().drain()

        page = await hub.reads.leads(LeadFilter(business="acme"), limit=2)
        assert len(page.leads) == 2 and page.cursor is not None
        rest = await hub.reads.leads(LeadFilter(business="acme"), limit=2, cursor=page.cursor)
        assert rest.cursor is None
        everyone = [lead.caller for lead in [*page.leads, *rest.leads]]
        assert sorted(everyone) == ["+15125550110", "+15125550111", "+15125550112"]
        assert (await hub.reads.leads(LeadFilter(business="other"))).leads == []

        [found] = (await hub.reads.leads(LeadFilter(text="78704"))).leads
        assert found.caller == "+15125550111" and found.zip == "78704"
        assert found.customer_words == ("Leaking pipe, 78704",)

        detail = await hub.reads.lead_detail(found.id)
        assert detail is not None and detail.lead == found
        assert [c.provider_call_id for c in detail.calls] == ["c-1"]
        assert [m.direction for m in detail.messages][:2] == ["out", "in"]
        assert {"customer_text", "field"} <= {entry.kind for entry in detail.timeline}
        assert {d.kind for d in detail.deliveries} == {"notify.new_lead"}

        counts = await hub.reads.counts(business="acme")
        assert counts.leads == 3 and counts.by_status == {"new": 3}
        sent = await Message.filter(direction="out").exclude(status="failed").count()
        assert counts.calls == 4 and counts.texts_sent == sent >= 3 and counts.replies == 1
    finally:
        await hub.stop()


async def test_every_change_bumps_the_version_and_lands_on_the_timeline(hub_dir, memory):
    hub = await started(hub_dir, memory)
    try:
        await call(hub, "v-1", "+15125550111")
        await hub.make_worker().drain()
        [lead] = (await hub.reads.leads()).leads
        assert lead.version == 0
        assert await hub.leads.set_status(lead.id, LeadStatus.BOOKED, actor="cli") is True
        assert await hub.leads.set_status(lead.id, LeadStatus.BOOKED, actor="cli") is False
        booked = await hub.reads.lead(lead.id)
        assert booked is not None and (booked.status, booked.version) == ("booked", 1)
        [entry] = await LeadEvent.filter(lead_id=lead.id, kind="status")
        assert (entry.actor, entry.detail) == ("cli", {"before": "new", "after": "booked"})
    finally:
        await hub.stop()
