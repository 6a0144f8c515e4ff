"""The same story through each provider: a missed call, the text back, the customer's reply,
the lead and the owner's summary. The core must not care which provider carried it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.models import Lead, Message
from hub.testing import eventually, make_hub, running_hub, write_config

CALLER = "+15125550123"
SERVICES = {"water heater": ["water heater", "hot water"], "drain cleaning": ["drain", "clog"]}


class TwilioStory:
    def __init__(self, running: Any, fake: Any) -> None:
        from hub_twilio.testing import TwilioWebhooks

        self.running, self.fake = running, fake
        self.hooks = TwilioWebhooks(running.url, clock=running.hub.clock)

    async def missed_call(self, caller: str) -> None:
        call = self.hooks.call(caller)
        await self.hooks.post(self.running.client, "voice", call.voice())
        response = await self.hooks.post(self.running.client, "dial", call.dial("no-answer"))
        assert response.status_code == 200, response.text

    async def reply(self, caller: str, text: str) -> None:
        response = await self.hooks.post(self.running.client, "sms", self.hooks.sms(caller, text))
        assert response.status_code == 200, response.text

    def texts(self) -> list[tuple[str, str]]:
        return [(text["To"], text["Body"]) for text in self.fake.texts]


class VonageStory:
    def __init__(self, running: Any, fake: Any) -> None:
        from hub_vonage.testing import VonageStory as Story

        self.story, self.fake = Story(running.client), fake

    async def missed_call(self, caller: str) -> None:
        await self.story.missed_call(caller)

    async def reply(self, caller: str, text: str) -> None:
        response = await self.story.reply(caller, text)
        assert response.status_code < 300, response.text

    def texts(self) -> list[tuple[str, str]]:
        return [(text.to_e164, text.body) for text in self.fake.texts]


@contextlib.asynccontextmanager
async def provider(name: str, hub_dir: Any) -> AsyncIterator[Any]:
    if name == "twilio":
        testing = pytest.importorskip("hub_twilio.testing")
        with testing.FakeTwilio() as fake:
            config = write_config(
                hub_dir, {"acme": testing.twilio_business(fake, services=SERVICES)}
            )
            async with running_hub(make_hub(config)) as running:
                yield TwilioStory(running, fake)
    else:
        testing = pytest.importorskip("hub_vonage.testing")
        with testing.FakeVonageServer() as fake:
            config = write_config(
                hub_dir, {"acme": testing.vonage_business(fake, services=SERVICES)}
            )
            async with running_hub(make_hub(config)) as running:
                yield VonageStory(running, fake)


@pytest.mark.parametrize("name", ["twilio", "vonage"])
async def test_missed_call_text_back_reply_lead(name, hub_dir, memory):
    async with provider(name, hub_dir) as story:
        await story.missed_call(CALLER)
        to, body = await eventually(lambda: story.texts()[0], timeout=10)
        assert len(story.texts()) == 1
        assert to == CALLER and "Acme Plumbing" in body and "STOP" in body
        first = await eventually(lambda: memory.notifications[0])
        assert first.kind == "new_lead" and "texted them back" in first.text

        await story.reply(CALLER, "Our water heater is leaking, we're in 78704. This is Maria")
        summary = await eventually(lambda: memory.notifications[1], timeout=10)
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
