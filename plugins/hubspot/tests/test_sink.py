"""The sink contract and the hubspot sink's own promises, against the fake HubSpot: httpx over
real HTTP to 127.0.0.1."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from hub_hubspot.testing import PORTAL_ID, hubspot_sink

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


def event(kind=EventKind.LEAD_CREATED, *, id=None, version=1, lead_id=7, at=None, **fields):
    """``sample_event`` about lead ``lead_id``, its lead changed by ``fields``."""
    base = sample_event(kind, id=id or f"evt-{lead_id}-{kind}-{version}.0", version=version)
    lead = replace(base.lead, id=lead_id, version=version, **fields)
    return replace(base, lead=lead)


@pytest.fixture
async def clocked(hub_dir, fake_hubspot):
    """``async make(**settings) -> (sink, clock)``: the sink of a hub on a ``ManualClock``,
    which the fake's search index follows too."""
    kits = []

    async def make(**settings):
        sinks = [hubspot_sink(fake_hubspot, **settings)]
        kit = await in_process_hub(write_config(hub_dir, {"acme": business(sinks=sinks)})).start()
        kits.append(kit)
        fake_hubspot.clock = lambda: kit.clock.now().timestamp()
        return kit.hub.sinks("acme")[0], kit.clock

    yield make
    for kit in kits:
        await kit.stop()


class TestHubSpotSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub, fake_hubspot):
        async def make(outcome: str = "delivered", **settings):
            selection = hubspot_sink(fake_hubspot, **settings)
            if outcome == "unreachable":
                selection["api_base_url"] = f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(sinks=[selection])
            return hub.sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake_hubspot):
        async def count(event):
            return len(fake_hubspot.deals_for_lead(event.lead.id))

        return count

    # -- a lead becomes a deal on a contact -------------------------------------------------------

    async def test_a_new_lead_is_a_contact_and_a_deal_with_what_the_hub_knows(
        self, make_sink, fake_hubspot
    ):
        sink = await make_sink(owner_id="777")
        result = await sink.deliver(
            event(name="Dana Reyes", service="water heater", zip="78704", urgency="emergency")
        )
        assert result.status == DeliveryStatus.DELIVERED
        (contact,) = fake_hubspot.contacts()
        (deal,) = fake_hubspot.deals()
        assert result.reference == f"deal {deal.id}"
        assert contact.properties == {
            "phone": "+15125550123",
            "firstname": "Dana",
            "lastname": "Reyes",
        }
        assert fake_hubspot.contact_of(deal) == contact.id
        assert (deal.associations[0][2], deal.properties["pipeline"]) == (3, "default")
        assert deal.properties["dealstage"] == "appointmentscheduled"
        assert deal.properties["hubspot_owner_id"] == "777"
        description = deal.properties["description"]
        for fact in (
            "Service: water heater",
            "ZIP: 78704",
            "Urgency: emergency",
            "Called: 2026-12-01 12:00 (America/Chicago)",
            "lead #7 of Acme Plumbing",
            "> <b>my sink</b> is leaking & 78704",
        ):
            assert fact in description, fact

    async def test_date_versioned_paths_by_default_and_v3_when_asked(self, make_sink, fake_hubspot):
        await (await make_sink()).deliver(event())
        paths = {r.path for r in fake_hubspot.requests}
        assert "/crm/objects/2026-03/contacts/search" in paths
        assert "/crm/objects/2026-03/deals" in paths

    async def test_v3_paths_when_asked(self, make_sink, fake_hubspot):
        await (await make_sink(api_version="v3")).deliver(event())
        paths = {r.path for r in fake_hubspot.requests}
        assert {"/crm/v3/objects/contacts/search", "/crm/v3/objects/deals"} <= paths

    async def test_an_existing_contact_is_found_by_phone(self, make_sink, fake_hubspot):
        known = fake_hubspot.add_contact(phone="+15125550123", firstname="Dana")
        await (await make_sink()).deliver(event())
        assert [c.id for c in fake_hubspot.contacts()] == [known.id]
        assert fake_hubspot.contact_of(fake_hubspot.deals()[0]) == known.id

    async def test_a_409_names_the_existing_contact(self, make_sink, fake_hubspot):
        known = fake_hubspot.add_contact(email="dana@example.com")
        conflict = {
            "status": "error",
            "message": f"Contact already exists. Existing ID: {known.id}",
            "category": "CONFLICT",
            "correlationId": "c0ffee",
        }
        # The search finds nothing; the create is refused as a duplicate (a unique property).
        fake_hubspot.script(ScriptedResponse(), ScriptedResponse(status=409, body=conflict))
        result = await (await make_sink()).deliver(event())
        assert result.status == DeliveryStatus.DELIVERED
        assert fake_hubspot.contact_of(fake_hubspot.deals()[0]) == known.id
        assert len(fake_hubspot.contacts()) == 1

    async def test_a_repeat_caller_is_the_same_contact_while_search_lags(
        self, make_sink, fake_hubspot
    ):
        fake_hubspot.search_lag = None  # search never shows what was written
        sink = await make_sink()
        await sink.deliver(event(lead_id=7))
        await sink.deliver(event(lead_id=8))  # the same caller, a new lead
        assert len(fake_hubspot.contacts()) == 1
        assert len(fake_hubspot.deals()) == 2
        assert {fake_hubspot.contact_of(d) for d in fake_hubspot.deals()} == {
            fake_hubspot.contacts()[0].id
        }

    async def test_two_deliveries_at_once_make_one_contact(self, clocked, fake_hubspot):
        fake_hubspot.search_lag = None
        sink, clock = await clocked()
        results = await asyncio.gather(*(sink.deliver(event(lead_id=n)) for n in (7, 8, 9)))
        # One makes the contact; the others are told to come back, then use it.
        assert sorted(r.status for r in results).count(DeliveryStatus.DELIVERED) >= 1
        clock.advance(31)
        again = [await sink.deliver(event(lead_id=n)) for n in (7, 8, 9)]
        assert {r.status for r in again} == {DeliveryStatus.DELIVERED}
        assert len(fake_hubspot.contacts()) == 1 and len(fake_hubspot.deals()) == 3

    # -- later events -----------------------------------------------------------------------------

    async def test_replies_and_updates_are_notes_on_the_same_deal(self, make_sink, fake_hubspot):
        sink = await make_sink()
        await sink.deliver(event())
        message = MessageView(id=3, direction="in", body="<script>x</script> 78704 & soon")
        reply = replace(event(EventKind.MESSAGE_RECEIVED, version=2), message=message)
        update = replace(
            event(EventKind.LEAD_UPDATED, version=3, zip="78704"),
            changes={"zip": Change(None, "78704"), "name": Change(None, "<b>Dana</b>")},
        )
        assert (await sink.deliver(reply)).status == DeliveryStatus.DELIVERED
        assert (await sink.deliver(update)).status == DeliveryStatus.DELIVERED
        (deal,) = fake_hubspot.deals()
        texted, updated = fake_hubspot.notes_on(deal.id)
        assert (
            "&lt;script&gt;x&lt;/script&gt; 78704 &amp; soon" in texted.properties["hs_note_body"]
        )
        assert "<script>" not in texted.properties["hs_note_body"]
        assert "ZIP: 78704" in updated.properties["hs_note_body"]
        assert "&lt;b&gt;Dana&lt;/b&gt;" in updated.properties["hs_note_body"]
        for note in (texted, updated):
            assert note.properties["hs_timestamp"] == str(int(reply.at.timestamp() * 1000))
            assert {(k, n) for k, _, n in note.associations} == {("deals", 214), ("contacts", 202)}

    async def test_the_stage_follows_the_status_and_a_booked_lead_stays_won(
        self, make_sink, fake_hubspot
    ):
        sink = await make_sink(stages={"contacted": "presentationscheduled"})
        await sink.deliver(event())
        (deal,) = fake_hubspot.deals()
        for version, status, stage in (
            (2, "contacted", "presentationscheduled"),
            (3, "booked", "closedwon"),
            (4, "closed", "closedwon"),
        ):
            moved = await sink.deliver(
                event(EventKind.LEAD_STATUS_CHANGED, version=version, status=status)
            )
            assert moved.status == DeliveryStatus.DELIVERED
            assert deal.properties["dealstage"] == stage, status
        late = await sink.deliver(
            event(EventKind.LEAD_STATUS_CHANGED, version=2, status="contacted", id="late.0")
        )
        assert late.reference == "stale" and deal.properties["dealstage"] == "closedwon"

    async def test_a_lead_closed_unbooked_is_lost(self, make_sink, fake_hubspot):
        sink = await make_sink()
        await sink.deliver(event())
        await sink.deliver(event(EventKind.LEAD_STATUS_CHANGED, version=2, status="closed"))
        assert fake_hubspot.deals()[0].properties["dealstage"] == "closedlost"

    # -- failures ---------------------------------------------------------------------------------

    async def test_a_lost_answer_never_makes_a_second_contact_or_deal(self, clocked, fake_hubspot):
        sink, clock = await clocked()
        fake_hubspot.lose_next_answer()  # the contact is made; the answer is a 502
        first = await sink.deliver(event())
        assert first.status == DeliveryStatus.RETRY and "502" in first.error
        soon = await sink.deliver(event())  # search may not show it yet: do not create again
        assert soon.status == DeliveryStatus.RETRY and 55 < soon.retry_after <= 62
        clock.advance(soon.retry_after)
        fake_hubspot.lose_next_answer()  # now the deal is made, and its answer lost
        assert (await sink.deliver(event())).status == DeliveryStatus.RETRY
        clock.advance(61)
        done = await sink.deliver(event())
        assert done.status == DeliveryStatus.DELIVERED
        assert len(fake_hubspot.contacts()) == 1 and len(fake_hubspot.deals()) == 1

    async def test_a_rate_limit_waits_for_hubspots_interval(self, clocked, fake_hubspot):
        sink, clock = await clocked()
        limited = {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "TEN_SECONDLY_ROLLING",
        }
        fake_hubspot.script(
            ScriptedResponse(
                status=429,
                body=limited,
                headers={
                    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                    "X-HubSpot-RateLimit-Remaining": "0",
                },
            )
        )
        result = await sink.deliver(event())
        assert (result.status, result.retry_after) == (DeliveryStatus.RETRY, 10.0)
        # Every business on the token waits too: no request until the interval is over.
        held = await sink.deliver(event())
        assert held.status == DeliveryStatus.RETRY and len(fake_hubspot.requests) == 1
        clock.advance(10)
        assert (await sink.deliver(event())).status == DeliveryStatus.DELIVERED

    async def test_requests_are_held_under_the_tokens_budget(self, make_sink, fake_hubspot):
        sink = await make_sink(
            requests_per_10s=3
        )  # search, contact, deal: then the budget is spent
        assert (await sink.deliver(event(lead_id=1))).status == DeliveryStatus.DELIVERED
        held = await sink.deliver(event(lead_id=2))
        assert held.status == DeliveryStatus.RETRY and 0 < held.retry_after <= 10.5
        assert len(fake_hubspot.requests) == 3  # held here, not refused by HubSpot

    async def test_a_revoked_token_fails_at_once_and_says_what_to_do(self, make_sink, fake_hubspot):
        sink = await make_sink()
        fake_hubspot.revoke(fake_hubspot.token)
        result = await sink.deliver(event())
        assert result.status == DeliveryStatus.FAILED
        assert "401" in result.error and "Private apps" in result.error
        for shown in (result.error, repr(sink), repr(sink.config), str(sink.config)):
            assert fake_hubspot.token not in shown
        assert len(fake_hubspot.requests) == 1

    async def test_missing_scopes_say_which(self, make_sink, fake_hubspot):
        sink = await make_sink()
        fake_hubspot.script(
            ScriptedResponse(
                status=403,
                body={
                    "status": "error",
                    "message": "This app hasn't been granted all required scopes",
                    "category": "MISSING_SCOPES",
                },
            )
        )
        result = await sink.deliver(event())
        assert result.status == DeliveryStatus.FAILED and "crm.objects.deals.write" in result.error

    async def test_a_wrong_stage_fails_with_what_to_check(self, make_sink, fake_hubspot):
        sink = await make_sink(stages={"new": "nosuchstage"})
        result = await sink.deliver(event())
        assert (
            result.status == DeliveryStatus.FAILED and "check pipeline and stages" in result.error
        )
        assert fake_hubspot.deals() == []

    async def test_the_link_asks_hubspot_for_the_account_once(self, make_sink, fake_hubspot):
        sink = await make_sink(portal_id=None)
        await sink.deliver(event(lead_id=1))
        await sink.deliver(event(lead_id=2))
        assert len(fake_hubspot.requests_to("/account-info")) == 1
        assert await sink.context.state.get("portal") == PORTAL_ID


async def test_businesses_on_one_token_share_its_limits(hub_dir, fake_hubspot):
    sinks = [hubspot_sink(fake_hubspot, requests_per_10s=3)]
    config = write_config(
        hub_dir,
        {
            "acme": business(sinks=sinks),
            "bee": business("Bee Electric", ["+15125550200"], sinks=sinks),
        },
    )
    async with in_process_hub(config) as kit:
        fake_hubspot.clock = lambda: kit.clock.now().timestamp()
        acme, bee = kit.hub.sinks("acme")[0], kit.hub.sinks("bee")[0]
        assert (await acme.deliver(event())).status == DeliveryStatus.DELIVERED  # 3 requests
        held = await bee.deliver(event(lead_id=8))
        assert held.status == DeliveryStatus.RETRY and len(fake_hubspot.requests) == 3
        kit.clock.advance(held.retry_after)
        assert (await bee.deliver(event(lead_id=8))).status == DeliveryStatus.DELIVERED
    # One HubSpot account: bee's search found the contact acme made for the same caller.
    assert len(fake_hubspot.contacts()) == 1 and len(fake_hubspot.deals()) == 2
