"""What a sink learns from the hub and tells back: which attempt a delivery is
(``Event.attempt``), the owner told once of a problem (``ProviderContext.tell_owner``), and
warnings from its state shown by ``hub check`` (``Provider.warnings``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import hub
from hub.testing import business, in_process_hub, write_config


class GoneSink(hub.Sink):
    """Hears everything; retries each event twice, then says the endpoint is gone."""

    name = "gone"
    events = hub.ALL_EVENTS
    seen: ClassVar[list[tuple[str, int]]] = []

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        self.seen.append((event.kind.value, event.attempt))
        if event.attempt < 3:
            return hub.DeliveryResult.retry("busy", retry_after=60)
        await self.context.state.set("gone", True)
        await self.context.tell_owner(
            "gone", "the endpoint answered 410 Gone; fix its URL", lead_id=event.lead.id
        )
        return hub.DeliveryResult.failed("410 Gone")

    async def warnings(self) -> list[str]:
        gone = await self.context.state.get("gone")
        return ["the endpoint is disabled (410 Gone)"] if gone else []


class gone_plugin:
    @staticmethod
    @hub.hookimpl
    def hub_register_sinks(register: Callable[[type[hub.Sink]], None]) -> None:
        register(GoneSink)


async def test_attempts_count_up_and_the_owner_is_told_once(hub_dir):
    GoneSink.seen = []
    sinks = [{"use": "memory"}, {"use": "gone", "on": ["lead.created"]}]
    config = write_config(hub_dir, {"acme": business(sinks=sinks)})
    async with in_process_hub(config, extra_plugins=[gone_plugin]) as kit:
        await kit.post_call(id="call-1", caller="+15125550123")
        await kit.post_call(id="call-2", caller="+15125550124")
        await kit.run_due_jobs()
        await kit.advance(seconds=60)
        await kit.advance(seconds=60)
        await kit.advance(hours=1)
        problems = [n for n in kit.outbox.notifications if n.kind == "problem"]
    assert sorted(GoneSink.seen) == [("lead.created", n) for n in (1, 1, 2, 2, 3, 3)]
    (problem,) = problems  # two leads hit it, the owner hears once
    assert "410 Gone; fix its URL" in problem.text


async def test_a_sink_does_not_hear_its_own_problem(hub_dir):
    GoneSink.seen = []
    sinks = [{"use": "memory"}, {"use": "gone"}]  # hears every event, notify.problem too
    config = write_config(hub_dir, {"acme": business(sinks=sinks)})
    async with in_process_hub(config, extra_plugins=[gone_plugin]) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.advance(seconds=60)
        await kit.advance(seconds=60)
        await kit.advance(hours=1)
        assert any(n.kind == "problem" for n in kit.outbox.notifications)
    assert "notify.problem" not in {kind for kind, _ in GoneSink.seen}


# `hub check` printing a sink's warnings() is tested with an installed sink, in
# plugins/webhook/tests/test_webhook_hub.py (check loads installed plugins only).
