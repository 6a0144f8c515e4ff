"""The Twilio plugin against the kit's contract classes (``hub.testing.contracts``)."""

from __future__ import annotations

import pytest
from hub_twilio.testing import DEFAULT_CALLER, TwilioWebhooks, twilio_business, twilio_error

from hub.testing import (
    PUBLIC_URL,
    CallSourceContract,
    ScriptedResponse,
    SmsSenderContract,
    WebhookRequest,
    free_port,
)


class TestTwilioSender(SmsSenderContract):
    @pytest.fixture
    def make_sender(self, build_hub, fake_twilio):
        async def make(outcome: str):
            fake = fake_twilio
            if outcome == "rate_limited":
                fake.script(twilio_error(20429, status=429))
            elif outcome == "server_error":
                fake.script(ScriptedResponse(status=503))
            elif outcome == "bad_number":
                fake.script(twilio_error(21211))  # an invalid 'To'
            settings = twilio_business(fake, sender_options={"timeout": 2})
            if outcome == "network_error":
                settings["sms_sender"]["api_base_url"] = f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(**settings)
            return hub.senders("acme")[0]

        return make


class TestTwilioCallSource(CallSourceContract):
    @pytest.fixture
    def call_source_settings(self):
        return twilio_business()["call_source"]

    @pytest.fixture
    def business_settings(self):
        settings = twilio_business()
        return {"numbers": settings["numbers"], "forward_to": settings["forward_to"]}

    def request(self, kind: str) -> WebhookRequest:
        hooks = TwilioWebhooks(PUBLIC_URL)
        form = hooks.call(DEFAULT_CALLER).voice()
        if kind == "forged":
            return TwilioWebhooks(PUBLIC_URL, auth_token="f" * 32).request("voice", form)
        if kind == "malformed":
            return hooks.request("voice", {"Hello": "there"})  # signed, but not a call
        request = hooks.request("voice", form)
        if kind == "unsigned":
            headers = {k: v for k, v in request.headers.items() if k != "X-Twilio-Signature"}
            return WebhookRequest(request.method, request.url, headers, request.content)
        return request
