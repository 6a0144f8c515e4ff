"""The default plugins against the kit's contract classes: what a plugin author's tests of their
own plugin look like (``hub.testing.contracts``)."""

from __future__ import annotations

import json

import pytest
from aiosmtpd.controller import Controller

from hub import DeliveryResult
from hub.defaults.generic import SIGNATURE_HEADER, sign
from hub.testing import (
    DEFAULT_SECRET,
    CallSourceContract,
    ReplyParserContract,
    SinkContract,
    SmsSenderContract,
    WebhookRequest,
    free_port,
    hub_with,
)


class TestConsoleSender(SmsSenderContract):
    @pytest.fixture
    def make_sender(self, build_hub):
        async def make(outcome: str):
            if outcome != "sent":
                pytest.skip("the console sender only logs: it cannot fail")
            hub = await build_hub(sms_sender={"use": "console"})
            return hub.senders("acme")[0]

        return make


class TestLogSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub):
        async def make(outcome: str):
            if outcome != "delivered":
                pytest.skip("the log sink writes to the hub's own log: nothing to reach")
            hub = await build_hub(sinks=[{"use": "log"}])
            return hub.sinks("acme")[0]

        return make


class TestMemorySink(SinkContract):
    @pytest.fixture
    def sinks(self):
        return []

    @pytest.fixture
    def make_sink(self, build_hub, sinks):
        async def make(outcome: str):
            hub = await build_hub(sinks=[{"use": "memory"}])
            sink = hub.sinks("acme")[0]
            if outcome == "unreachable":
                sink.outbox.delivery_results.append(DeliveryResult.retry("503 from the service"))
            sinks.append(sink)
            return sink

        return make

    @pytest.fixture
    def count_effects(self, sinks):
        async def count(event):
            return sum(seen.id == event.id for sink in sinks for seen in sink.outbox.events)

        return count


class Mailbox:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 Message accepted"


class TestEmailSink(SinkContract):
    @pytest.fixture
    def smtp_port(self):
        controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
        controller.start()
        yield controller.port
        controller.stop()

    @pytest.fixture
    def make_sink(self, build_hub, smtp_port):
        async def make(outcome: str):
            port = smtp_port if outcome == "delivered" else free_port()  # nothing listens there
            settings = {"use": "email", "host": "127.0.0.1", "port": port, "timeout": 2}
            hub = await build_hub(sinks=[settings])
            return hub.sinks("acme")[0]

        return make


class TestGenericCallSource(CallSourceContract):
    @pytest.fixture
    def call_source_settings(self):
        return {"use": "generic", "secret": DEFAULT_SECRET}

    def request(self, kind: str) -> WebhookRequest:
        call = {"id": "contract-1", "from": "+15125550123", "to": "+15125550100"}
        body = json.dumps(call).encode()
        secret = "not-the-secret-at-all" if kind == "forged" else DEFAULT_SECRET
        if kind == "malformed":
            body = b'{"id": 42, "outcome": "dropped"'
        headers = {"Content-Type": "application/json"}
        if kind != "unsigned":
            headers[SIGNATURE_HEADER] = sign(secret, body)
        return WebhookRequest("POST", "/hooks/acme/generic/call", headers, body)


class TestRulesParser(ReplyParserContract):
    @pytest.fixture
    def parser(self, hub_dir):
        return hub_with(hub_dir, reply_parsers=[{"use": "rules"}]).parsers("acme")[0]

    async def test_a_thank_you_finds_no_name(self, parser, parse_context):
        found = await self.parse(parser, "thanks, sounds good", parse_context)
        self.assert_nothing_found("thanks, sounds good", found)
