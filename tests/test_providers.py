"""The same story through each provider: a missed call, the text back, the customer's reply,
the lead and the owner's summary. The core must not care which provider carried it.

Every provider kit has the same shape (``hub.testing.fakes``), so one test drives both: its
fake API, ``business_settings(fake)`` and ``CallDriver``."""

from __future__ import annotations

import importlib

import pytest

from hub.models import Lead, Message
from hub.testing import FakeProviderApi, in_process_hub, write_config

CALLER = "+15125550123"
SERVICES = {"water heater": ["water heater", "hot water"], "drain cleaning": ["drain", "clog"]}
FAKES = {"twilio": "FakeTwilio", "vonage": "FakeVonage"}


@pytest.mark.parametrize("name", ["twilio", "vonage"])
async def test_missed_call_text_back_reply_lead(name, hub_dir):
    pytest.importorskip(f"hub_{name}")
    kit = importlib.import_module(f"hub_{name}.testing")
    fake: FakeProviderApi
    with getattr(kit, FAKES[name])() as fake:
        config = write_config(hub_dir, {"acme": kit.business_settings(fake, services=SERVICES)})
        async with in_process_hub(config) as running:
            memory = running.outbox
            driver = kit.CallDriver(running.client, clock=running.clock)
            await driver.missed_call(CALLER)
            await running.run_due_jobs()
            [text] = fake.sent
            assert text.to == CALLER and "Acme Plumbing" in text.body and "STOP" in text.body
            first = memory.notifications[0]
            assert first.kind == "new_lead" and "texted them back" in first.text

            await driver.reply(CALLER, "Our water heater is leaking, we're in 78704. This is Maria")
            await running.run_due_jobs()
            summary = memory.notifications[1]
            assert summary.kind == "summary"
            assert (summary.lead.service, summary.lead.zip, summary.lead.name) == (
                "water heater",
                "78704",
                "Maria",
            )

            lead = await Lead.get(phone=CALLER)
            assert (lead.service, lead.zip, lead.name, lead.call_count) == (
                "water heater",
                "78704",
                "Maria",
                1,
            )
            messages = (
                await Message.filter(lead_id=lead.id)
                .order_by("id")
                .values_list("direction", "provider")
            )
            assert messages == [("out", name), ("in", name)]
