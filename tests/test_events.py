"""Lead events: which sinks hear which events, as hub.yaml chooses."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

import pytest

import hub
from hub.config import ConfigError, load_config
from hub.events import NOTIFICATIONS, Change, EventKind
from hub.models import LeadStatus
from hub.plugins import load_plugins
from hub.store.reads import LeadFilter
from hub.testing import business, in_process_hub, write_config

BUSINESS = """\
businesses:
  acme:
    name: Acme Plumbing
    timezone: America/Chicago
    numbers: ["+15125550100"]
    call_source: {use: generic, secret: test-secret-0123456789}
    sms_sender: {use: console}
    sinks:
"""


def load(tmp_path: Path, sinks: str):
    path = tmp_path / "hub.yaml"
    path.write_text(BUSINESS + sinks)
    return load_config(path, load_plugins())


def issues(tmp_path: Path, sinks: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, sinks)
    return [str(issue) for issue in caught.value.issues]


def test_a_sink_gets_the_owner_notifications_unless_hub_yaml_narrows_them(tmp_path):
    # A bare `on:` is YAML 1.1's boolean true; it still means the events.
    config = load(tmp_path, "      - use: log\n      - use: log\n        on: [notify.urgent]\n")
    plain, narrowed = config.businesses["acme"].sinks
    assert plain.events(NOTIFICATIONS, NOTIFICATIONS) == NOTIFICATIONS
    assert narrowed.events(NOTIFICATIONS, NOTIFICATIONS) == {EventKind.NOTIFY_URGENT}


def test_an_unknown_event_is_reported_with_its_path(tmp_path):
    [issue] = issues(tmp_path, "      - use: log\n        on: [lead.craeted]\n")
    assert issue.startswith("businesses.acme.sinks[0].on")
    assert "'lead.craeted'" in issue and "lead.created" in issue


def test_an_event_the_sink_does_not_take_is_reported(tmp_path):
    [issue] = issues(tmp_path, "      - use: log\n        on: [lead.created]\n")
    assert issue.startswith("businesses.acme.sinks[0].on")
    assert "does not take lead.created" in issue and "notify.summary" in issue


def test_on_is_not_a_setting_of_other_plugins(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text(
        BUSINESS.replace("{use: console}", "{use: console, on: [lead.created]}")
        + "      - use: log\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, load_plugins())
    assert [str(i) for i in caught.value.issues] == [
        "businesses.acme.sms_sender.on: unknown setting"
    ]


# -- events through a conversation ------------------------------------------------------------

MIRROR = [
    "call.received",
    "lead.created",
    "lead.updated",
    "lead.status_changed",
    "message.received",
    "message.sent",
]


def conversation_hub(hub_dir, *, sinks, extra_plugins=()):
    path = write_config(hub_dir, {"acme": business(sinks=sinks, text_back={"delay": 0})})
    return in_process_hub(path, extra_plugins=extra_plugins)


async def test_a_conversation_reaches_a_mirroring_sink_as_events_in_version_order(hub_dir):
    sinks = [{"use": "memory", "on": MIRROR}, {"use": "memory"}]
    async with conversation_hub(hub_dir, sinks=sinks) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.text_in("water heater is leaking, 78704, this is Dana")
        await kit.run_due_jobs()
        [lead] = (await kit.hub.reads.leads(LeadFilter(business="acme"))).leads
        assert await kit.hub.leads.set_status(lead.id, LeadStatus.CONTACTED, actor="cli")
        await kit.run_due_jobs()

        mirrored = [e for e in kit.outbox.events if e.id.endswith(".0")]
        notified = [e for e in kit.outbox.events if e.id.endswith(".1")]
        assert [e.kind for e in mirrored] == [
            "lead.created",
            "call.received",
            "message.sent",  # the text-back
            "message.received",
            "lead.updated",
            "message.sent",  # the follow-up question: the kit's business lists no services
            "lead.status_changed",
        ]
        # The second sink hears only what sinks hear by default: the owner notifications.
        assert {e.kind for e in notified} <= NOTIFICATIONS
        assert [e.kind for e in notified][:1] == ["notify.new_lead"]

        by_kind = {e.kind: e for e in reversed(mirrored)}  # the first of each kind
        assert by_kind["message.received"].message.body.startswith("water heater")
        assert by_kind["message.sent"].message.direction == "out"
        assert by_kind["call.received"].call.provider_call_id == "call-1"
        updated = by_kind["lead.updated"]
        assert updated.changes["zip"] == Change(None, "78704")
        assert updated.changes["name"].after == "Dana"
        changed = by_kind["lead.status_changed"]
        assert changed.changes == {"status": Change("new", "contacted")}
        assert changed.actor == "cli"
        # Versions only grow with each change, so a sink can drop a late, stale update.
        assert by_kind["lead.created"].lead_version < updated.lead_version
        assert updated.lead_version < changed.lead_version == changed.lead.version
        assert len({e.id for e in kit.outbox.events}) == len(kit.outbox.events)


class FlakyRecorder(hub.Sink[hub.ProviderConfig]):
    """Answers 503 to the first delivery of each event, and keeps every id it was handed."""

    name = "flaky"
    events = frozenset({hub.EventKind.LEAD_CREATED})
    seen: ClassVar[list[str]] = []

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        first = event.id not in self.seen
        self.seen.append(event.id)
        if first:
            return hub.DeliveryResult.retry("503 from the service")
        return hub.DeliveryResult.delivered(event.id)


class flaky_plugin:
    @staticmethod
    @hub.hookimpl
    def hub_register_sinks(register):
        register(FlakyRecorder)


async def test_a_retried_event_carries_the_same_id_and_a_new_one_another(hub_dir):
    FlakyRecorder.seen = []
    async with conversation_hub(
        hub_dir, sinks=[{"use": "flaky"}], extra_plugins=[flaky_plugin]
    ) as kit:
        await kit.post_call(id="call-1", caller="+15125550111")
        await kit.run_due_jobs()
        assert len(FlakyRecorder.seen) == 1  # failed once, waiting for its backoff
        await kit.advance(hours=1)
        await kit.post_call(id="call-2", caller="+15125550122")
        await kit.run_due_jobs()
        await kit.advance(hours=1)
        first, retry, *others = FlakyRecorder.seen
        assert retry == first  # the same event, the same id
        assert len(others) == 2 and others[0] == others[1] != first  # the second caller's
        deliveries = await kit.recorded.lead_detail((await kit.recorded.lead("+15125550111")).id)
        assert [d.status for d in deliveries.deliveries] == ["delivered"]


class StuckSink(hub.Sink[hub.ProviderConfig]):
    """A service that answers nothing until the test lets it."""

    name = "stuck"
    release: ClassVar[asyncio.Event]
    waiting: ClassVar[list[str]] = []

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        self.waiting.append(event.id)
        await self.release.wait()
        return hub.DeliveryResult.delivered()


class StuckPlugin:
    __name__ = "stuck"

    @hub.hookimpl
    def hub_register_sinks(self, register):
        register(StuckSink)


async def test_a_sink_that_hangs_never_holds_up_a_text(hub_dir):
    """Deliveries run in a pool of their own: with one slot for each, texts still go out while
    every delivery slot waits on a service that does not answer."""
    from hub.testing import make_hub, running_hub
    from hub.testing.memory import MemoryOutbox

    StuckSink.release, StuckSink.waiting = asyncio.Event(), []
    outbox = MemoryOutbox()
    settings = business(sinks=[{"use": "stuck"}], text_back={"delay": 0})
    worker = {"concurrency": 1, "delivery_concurrency": 1, "poll_interval": 0.05}
    app = make_hub(
        write_config(hub_dir, {"acme": settings}, worker=worker),
        extra_plugins=[StuckPlugin()],
        outbox=outbox,
    )
    async with running_hub(app) as served:
        for index in range(3):
            await served.post_call(id=f"call-{index}", **{"from": f"+1512555012{index}"})
        await served.wait_for(lambda: len(outbox.texts) == 3)
        assert len(StuckSink.waiting) == 1  # the one delivery slot, still waiting
        StuckSink.release.set()
        await served.wait_for(lambda: len(StuckSink.waiting) == 3)


async def test_a_sink_that_hangs_never_holds_up_another_sink(hub_dir):
    """Each sink is a lane of the delivery pool, with a quarter of its slots at most: while
    one sink's service answers nothing, another's deliveries all go."""
    from hub.testing import make_hub, running_hub
    from hub.testing.memory import MemoryOutbox

    StuckSink.release, StuckSink.waiting = asyncio.Event(), []
    outbox = MemoryOutbox()
    settings = business(sinks=[{"use": "stuck"}, {"use": "memory"}], text_back={"delay": 0})
    worker = {"delivery_concurrency": 4, "poll_interval": 0.05}
    app = make_hub(
        write_config(hub_dir, {"acme": settings}, worker=worker),
        extra_plugins=[StuckPlugin()],
        outbox=outbox,
    )
    async with running_hub(app) as served:
        for index in range(5):
            await served.post_call(id=f"call-{index}", **{"from": f"+1512555013{index}"})
        await served.wait_for(lambda: len(outbox.notifications) == 5)
        assert len(StuckSink.waiting) == 1  # its lane's one slot of four
        StuckSink.release.set()
        await served.wait_for(lambda: len(StuckSink.waiting) == 5)
