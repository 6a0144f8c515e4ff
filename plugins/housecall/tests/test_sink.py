"""The sink contract and the housecall sink's own promises, against the fake Housecall Pro:
httpx over real HTTP to 127.0.0.1."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from hub_housecall.testing import housecall_sink

from hub import Change, DeliveryStatus, EventKind, MessageView
from hub.testing import (
    ScriptedResponse,
    SinkContract,
    business,
    free_port,
    in_process_hub,
    sample_event,
    write_config,
)


def event(kind=EventKind.LEAD_CREATED, *, id=None, version=1, lead_id=7, **fields):
    base = sample_event(kind, id=id or f"evt-{lead_id}-{kind}-{version}.0", version=version)
    return replace(base, lead=replace(base.lead, id=lead_id, version=version, **fields))


@pytest.fixture
async def clocked(hub_dir, fake_housecall):
    """``async make(**settings) -> (sink, clock)``: the sink of a hub on a ``ManualClock``,
    which the fake's search index follows too."""
    kits = []

    async def make(**settings):
        sinks = [housecall_sink(fake_housecall, **settings)]
        kit = await in_process_hub(write_config(hub_dir, {"acme": business(sinks=sinks)})).start()
        kits.append(kit)
        fake_housecall.clock = lambda: kit.clock.now().timestamp()
        return kit.hub.sinks("acme")[0], kit.clock

    yield make
    for kit in kits:
        await kit.stop()


class TestHousecallSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub, fake_housecall):
        async def make(outcome: str = "delivered", **settings):
            selection = housecall_sink(fake_housecall, **settings)
            if outcome == "unreachable":
                selection["api_base_url"] = f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(sinks=[selection])
            return hub.sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake_housecall):
        async def count(event):
            return len(fake_housecall.leads_for(event.lead.id))

        return count

    async def test_a_new_lead_is_a_customer_and_a_lead_with_what_the_hub_knows(
        self, make_sink, fake_housecall
    ):
        sink = await make_sink()
        result = await sink.deliver(
            event(name="Dana Reyes", service="water heater", zip="78704", urgency="emergency")
        )
        assert result.status == DeliveryStatus.DELIVERED
        ((customer_id, customer),) = fake_housecall.customers.items()
        ((lead_id, lead),) = fake_housecall.leads.items()
        assert result.reference == f"lead {lead_id}"
        assert (customer["first_name"], customer["last_name"]) == ("Dana", "Reyes")
        assert customer["mobile_number"] == "5125550123"
        assert customer["notifications_enabled"] is False  # the hub texts them, not Housecall Pro
        assert lead["customer"]["id"] == customer_id and lead["lead_source"] == "Missed call"
        for fact in (
            "Missed call from +15125550123",
            "Service: water heater",
            "ZIP: 78704",
            "Urgency: emergency",
            "Called: 2026-12-01 12:00 (America/Chicago)",
            "> <b>my sink</b> is leaking & 78704",
            "(hub lead #7 of Acme Plumbing)",
        ):
            assert fact in lead["note"], fact
        (auth,) = {r.headers["authorization"] for r in fake_housecall.requests}
        assert auth == f"Token {fake_housecall.api_key}"

    async def test_an_existing_customer_is_found_by_phone_not_by_a_lookalike(
        self, make_sink, fake_housecall
    ):
        fake_housecall.add_customer(first_name="Suite 5125550123", mobile_number="7375550000")
        known = fake_housecall.add_customer(first_name="Dana", mobile_number="(512) 555-0123")
        await (await make_sink()).deliver(event())
        assert len(fake_housecall.customers) == 2
        (lead,) = fake_housecall.leads.values()
        assert lead["customer"]["id"] == known["id"]
        (search,) = fake_housecall.requests_to("/customers")[:1]
        assert search.query["q"] == "5125550123"

    async def test_a_repeat_caller_is_the_same_customer_while_search_lags(
        self, make_sink, fake_housecall
    ):
        fake_housecall.search_lag = None
        sink = await make_sink()
        await sink.deliver(event(lead_id=7))
        await sink.deliver(event(lead_id=8))
        assert len(fake_housecall.customers) == 1 and len(fake_housecall.leads) == 2

    async def test_replies_updates_and_statuses_are_notes_on_the_customer(
        self, make_sink, fake_housecall
    ):
        sink = await make_sink()
        await sink.deliver(event())
        message = MessageView(id=3, direction="in", body="after 3pm <b>please</b>")
        reply = replace(event(EventKind.MESSAGE_RECEIVED, version=2), message=message)
        update = replace(
            event(EventKind.LEAD_UPDATED, version=3), changes={"zip": Change(None, "78704")}
        )
        status = event(EventKind.LEAD_STATUS_CHANGED, version=4, status="booked")
        for later in (reply, update, status):
            result = await sink.deliver(later)
            assert result.status == DeliveryStatus.DELIVERED and result.reference.startswith(
                "note "
            )
        (customer_id,) = fake_housecall.customers
        assert fake_housecall.notes_of(customer_id) == [
            "The customer texted (lead #7): after 3pm <b>please</b>",
            "Lead #7 updated: ZIP: 78704",
            "Lead #7 is now booked in the hub",
        ]
        assert len(fake_housecall.leads) == 1

    async def test_a_lost_answer_never_makes_a_second_customer_or_lead(
        self, clocked, fake_housecall
    ):
        sink, clock = await clocked()
        fake_housecall.lose_next_answer()  # the customer is made; the answer is a 502
        assert (await sink.deliver(event())).status == DeliveryStatus.RETRY
        soon = await sink.deliver(event())
        assert soon.status == DeliveryStatus.RETRY and 55 < soon.retry_after <= 62
        clock.advance(soon.retry_after)
        fake_housecall.lose_next_answer()  # now the lead is made, and its answer lost
        assert (await sink.deliver(event())).status == DeliveryStatus.RETRY
        clock.advance(61)
        assert (await sink.deliver(event())).status == DeliveryStatus.DELIVERED
        assert len(fake_housecall.customers) == 1 and len(fake_housecall.leads) == 1

    async def test_two_deliveries_at_once_make_one_customer(self, clocked, fake_housecall):
        fake_housecall.search_lag = None
        sink, clock = await clocked()
        await asyncio.gather(*(sink.deliver(event(lead_id=n)) for n in (7, 8, 9)))
        clock.advance(31)
        again = [await sink.deliver(event(lead_id=n)) for n in (7, 8, 9)]
        assert {r.status for r in again} == {DeliveryStatus.DELIVERED}
        assert len(fake_housecall.customers) == 1 and len(fake_housecall.leads) == 3

    async def test_a_429_waits_for_retry_after_for_every_business_on_the_key(
        self, clocked, fake_housecall
    ):
        sink, clock = await clocked()
        fake_housecall.script(
            ScriptedResponse(
                status=429,
                body={"error": {"message": "Too many requests"}},
                headers={"Retry-After": "20"},
            )
        )
        limited = await sink.deliver(event())
        assert (limited.status, limited.retry_after) == (DeliveryStatus.RETRY, 20.0)
        held = await sink.deliver(event())
        assert held.status == DeliveryStatus.RETRY and len(fake_housecall.requests) == 1
        clock.advance(20)
        assert (await sink.deliver(event())).status == DeliveryStatus.DELIVERED

    async def test_requests_are_held_under_the_keys_budget(self, make_sink, fake_housecall):
        sink = await make_sink(requests_per_minute=3)  # search, customer, lead
        assert (await sink.deliver(event(lead_id=1))).status == DeliveryStatus.DELIVERED
        held = await sink.deliver(event(lead_id=2))
        assert held.status == DeliveryStatus.RETRY and 0 < held.retry_after <= 60.5
        assert len(fake_housecall.requests) == 3

    async def test_a_revoked_key_fails_at_once_and_says_what_to_do(self, make_sink, fake_housecall):
        sink = await make_sink()
        fake_housecall.revoke(fake_housecall.api_key)
        result = await sink.deliver(event())
        assert (
            result.status == DeliveryStatus.FAILED
            and "put it in hub.yaml's api_key" in result.error
        )
        for shown in (result.error, repr(sink), repr(sink.config), str(sink.config)):
            assert fake_housecall.api_key not in shown
        assert len(fake_housecall.requests) == 1

    async def test_a_plan_without_the_api_says_so(self, make_sink, fake_housecall):
        fake_housecall.plan_has_api = False
        result = await (await make_sink()).deliver(event())
        assert result.status == DeliveryStatus.FAILED and "MAX plan" in result.error


async def test_businesses_on_one_key_share_its_limits(hub_dir, fake_housecall):
    sinks = [housecall_sink(fake_housecall)]
    config = write_config(
        hub_dir,
        {
            "acme": business(sinks=sinks),
            "bee": business("Bee Electric", ["+15125550200"], sinks=sinks),
        },
    )
    fake_housecall.script(
        ScriptedResponse(
            status=429,
            body={"error": {"message": "Too many requests"}},
            headers={"Retry-After": "20"},
        )
    )
    async with in_process_hub(config) as kit:
        acme, bee = kit.hub.sinks("acme")[0], kit.hub.sinks("bee")[0]
        assert (await acme.deliver(event())).status == DeliveryStatus.RETRY
        held = await bee.deliver(event(lead_id=8))
        assert held.status == DeliveryStatus.RETRY and len(fake_housecall.requests) == 1
        kit.clock.advance(20)
        assert (await bee.deliver(event(lead_id=8))).status == DeliveryStatus.DELIVERED
