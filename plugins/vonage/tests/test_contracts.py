"""The Vonage plugin against the kit's contract classes (``hub.testing.contracts``)."""

from __future__ import annotations

import time

import pytest
from hub_vonage.signatures import make_jwt
from hub_vonage.testing import (
    API_KEY,
    APPLICATION_ID,
    SIGNATURE_SECRET,
    VonageWebhooks,
    vonage_business,
)

from hub.testing import (
    CallSourceContract,
    ScriptedResponse,
    SmsSenderContract,
    WebhookRequest,
    free_port,
)


@pytest.mark.parametrize("api", ["sms", "messages"])
class TestVonageSender(SmsSenderContract):
    @pytest.fixture
    def make_sender(self, build_hub, fake, api):
        async def make(outcome: str):
            if outcome == "rate_limited":
                fake.script(ScriptedResponse(429, {"title": "Too Many Requests"}))
            elif outcome == "server_error":
                fake.fail_next(500, retry_after=None)
            elif outcome == "bad_number":
                if api == "sms":
                    fake.reject_next("6", "Unroutable")
                else:
                    fake.script(ScriptedResponse(422, {"title": "Invalid params"}))
            if outcome == "network_error":
                closed = f"http://127.0.0.1:{free_port()}"
                sender = {"rest_host": closed, "api_host": closed, "timeout": 2}
                settings = vonage_business(None, api=api, sender=sender)
            else:
                settings = vonage_business(fake, api=api)
            hub = await build_hub(**settings)
            return hub.senders("acme")[0]

        return make


class TestVonageCallSource(CallSourceContract):
    @pytest.fixture
    def call_source_settings(self):
        return vonage_business(call={"mode": "catch"})["call_source"]

    @pytest.fixture
    def business_settings(self):
        settings = vonage_business()
        return {"numbers": settings["numbers"], "forward_to": settings["forward_to"]}

    def request(self, kind: str) -> WebhookRequest:
        if kind == "unsigned":
            return VonageWebhooks(secret=None).answer("contract-1")
        if kind == "forged":
            return VonageWebhooks(secret="not-the-signature-secret-at-all-0123").answer("c-2")
        if kind == "malformed":
            body = b'{"uuid": 42, "to": '
            token = make_jwt(
                SIGNATURE_SECRET,
                body,
                iat=time.time(),
                api_key=API_KEY,
                application_id=APPLICATION_ID,
            )
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            return WebhookRequest("POST", "/hooks/acme/vonage/answer", headers, body)
        return VonageWebhooks().answer("contract-1")
