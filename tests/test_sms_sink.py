"""The `sms` sink: owner notifications texted through the business's own senders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import hub
from hub.defaults.sms import fit
from hub.store.reads import LeadFilter
from hub.testing import (
    SinkContract,
    business,
    config_issues,
    in_process_hub,
    run_cli,
    write_config,
)

OWNER = "+15125550199"
DISPATCH = "+15125550177"
CALLER = "+15125550123"


def acme(**sink: Any) -> dict[str, Any]:
    return business(
        owner={"name": "Pat", "email": "owner@example.com", "phone": OWNER},
        sinks=[{"use": "sms", **sink}],
        text_back={"delay": 0},
        services={"water heater": ["water heater"]},
    )


def to(kit, number: str) -> list[str]:
    return [text.body for text in kit.outbox.texts if text.to == number]


class DownSender(hub.SmsSender[hub.ProviderConfig]):
    """A sender whose provider cannot be reached."""

    name = "down"

    async def send(self, sms: hub.OutboundSms) -> hub.SendResult:
        return hub.SendResult.retry("connection refused")


class DownPlugin:
    __name__ = "down"

    @hub.hookimpl
    def hub_register_sms_senders(self, register: Callable[[type[hub.SmsSender]], None]) -> None:
        register(DownSender)


class TestSmsSinkContract(SinkContract):
    extra_plugins = (DownPlugin(),)

    @pytest.fixture
    def make_sink(self, build_hub):
        async def make(outcome: str) -> hub.Sink:
            sender = {"use": "memory" if outcome == "delivered" else "down"}
            built = await build_hub(
                owner={"phone": OWNER}, sms_sender=sender, sinks=[{"use": "sms"}]
            )
            self.outbox = built.plugins.provider(hub.Kind.SMS_SENDER, "memory").outbox
            return built.providers["acme"].sinks[0]

        return make

    @pytest.fixture
    def count_effects(self):
        async def count(event: hub.Event) -> int:
            return sum(1 for text in self.outbox.texts if text.reference.startswith(event.id))

        return count


async def test_the_owner_gets_the_summary_by_text_in_two_segments(hub_dir):
    async with in_process_hub(write_config(hub_dir, {"acme": acme()})) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        assert to(kit, OWNER) == []  # a new lead is not among the default `only`
        await kit.text_in("water heater is leaking, 78704, after 5 is best, this is Dana")
        await kit.advance(minutes=30)
        [summary] = to(kit, OWNER)
        assert summary.startswith("Lead Acme Plumbing: Dana +15125550123, water heater")
        assert "ZIP 78704" in summary and "water heater is leaking" in summary
        assert hub.count_segments(summary).count <= 2


async def test_an_emergency_texts_the_dispatcher_and_pages_the_owner_once(hub_dir):
    async with in_process_hub(write_config(hub_dir, {"acme": acme(to=[OWNER, DISPATCH])})) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.text_in("basement is flooding, burst pipe, 78704")
        await kit.run_due_jobs()
        [page] = to(kit, OWNER)  # the hub's own page, not a second text from the sink
        assert page.startswith("URGENT Acme Plumbing")
        [dispatch] = to(kit, DISPATCH)
        assert dispatch.startswith("URGENT Acme Plumbing:") and "flooding" in dispatch


async def test_only_chooses_the_notifications_and_to_takes_one_number(hub_dir):
    settings = acme(to="+1 (512) 555-0177", only=["new_lead"])
    async with in_process_hub(write_config(hub_dir, {"acme": settings})) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        [new_lead] = to(kit, DISPATCH)
        assert new_lead.startswith("New lead Acme Plumbing: +15125550123")
        await kit.text_in("water heater is leaking, 78704, this is Dana")
        await kit.advance(minutes=30)
        assert len(to(kit, DISPATCH)) == 1  # no summary: it was not asked for


async def test_a_number_gets_at_most_max_per_hour_texts(hub_dir):
    settings = acme(only=["new_lead"], max_per_hour=2)
    async with in_process_hub(write_config(hub_dir, {"acme": settings})) as kit:
        for index in range(3):
            await kit.post_call(id=f"call-{index}", **{"from": f"+1512555012{index}"})
            await kit.run_due_jobs()
        assert len(to(kit, OWNER)) == 2
        [over] = [
            d
            for lead in (await kit.hub.reads.leads(LeadFilter(business="acme"))).leads
            for d in (await kit.hub.reads.lead_detail(lead.id)).deliveries
            if d.status == "failed"
        ]
        assert over.error == f"not texted to {OWNER}: 2 texts this hour already"
        await kit.advance(hours=1)
        await kit.post_call(id="call-next-hour", **{"from": "+15125550129"})
        await kit.run_due_jobs()
        assert len(to(kit, OWNER)) == 3  # a new hour, a new allowance


async def test_a_number_that_opted_out_is_never_texted(hub_dir):
    settings = acme(to=[DISPATCH], only=["new_lead"])
    async with in_process_hub(write_config(hub_dir, {"acme": settings})) as kit:
        await kit.text_in("STOP", caller=DISPATCH)  # the dispatcher asked this number to stop
        await kit.run_due_jobs()
        kit.outbox.texts.clear()
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        assert to(kit, DISPATCH) == []
        leads = (await kit.hub.reads.leads(LeadFilter(business="acme"))).leads
        [lead] = [lead for lead in leads if lead.caller == CALLER]
        [delivery] = (await kit.hub.reads.lead_detail(lead.id)).deliveries
        assert delivery.status == "failed" and "opted out" in (delivery.error or "")


def test_settings_are_checked(hub_dir):
    path = write_config(hub_dir, {"acme": acme(to=["hello"], only=["everything"])})
    problems = dict(config_issues(path))
    assert "'hello' is not an E.164 phone number" in problems["businesses.acme.sinks[0].to"]
    assert "summary" in problems["businesses.acme.sinks[0].only[0]"]

    nobody = business(sms_sender={"use": "console"}, sinks=[{"use": "sms"}])  # no one to text
    result = run_cli("check", "--config", str(write_config(hub_dir, {"acme": nobody})))
    assert result.returncode == 2
    assert "businesses.acme.sinks[0]: no one to text" in result.stderr


def test_a_long_text_is_cut_to_two_segments_without_leaving_gsm7():
    words = "the water heater in the garage is leaking all over the floor " * 10
    cut = fit(f'Lead Acme: "{words}"')
    segments = hub.count_segments(cut)
    assert segments.count == 2 and segments.encoding == "GSM-7" and cut.endswith("...")
    assert fit("short\n text") == "short text"
