"""A captured Vonage voice JWT is worth nothing: it signs one body, once. Call data comes only
from the signed body or from the URLs the hub itself signed."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from hub_vonage.signatures import make_jwt
from hub_vonage.testing import (
    API_KEY,
    APPLICATION_ID,
    SIGNATURE_SECRET,
    VonageWebhooks,
    connect_event_url,
    vonage_business,
)

from hub.testing import WebhookRequest, in_process_hub, write_config

VICTIM = "+15125550777"


def catch_hub(hub_dir, fake, mode: str = "catch"):
    return in_process_hub(
        write_config(hub_dir, {"acme": vonage_business(fake, call={"mode": mode})})
    )


async def test_a_captured_answer_token_cannot_be_posted_again(hub_dir, fake):
    async with catch_hub(hub_dir, fake) as running:
        captured = VonageWebhooks().answer("c1")
        assert (await captured.send(running.client)).status_code == 200
        # The same token and body, with call data in a new query string: refused whole.
        replayed = WebhookRequest(
            "POST",
            captured.url + "?" + urlencode({"uuid": "c2", "from": VICTIM[1:]}),
            captured.headers,
            captured.content,
        )
        assert (await replayed.send(running.client)).status_code == 403
        await running.run_due_jobs()
        assert [call.provider_call_id for call in await running.recorded.calls()] == ["c1"]
        assert [text.to for text in fake.texts] == ["15125550123"]


async def test_the_get_answer_url_carries_no_signed_data_and_is_refused(hub_dir, fake):
    async with catch_hub(hub_dir, fake) as running:
        # A valid, unused token, sent with call data of the sender's choosing in the query.
        response = await VonageWebhooks().answer("c1", VICTIM, method="GET").send(running.client)
        assert response.status_code == 403 and "POST" in response.text
        await running.run_due_jobs()
        assert await running.recorded.calls() == []
        assert fake.texts == []


async def test_a_body_without_payload_hash_is_refused(hub_dir, fake):
    async with catch_hub(hub_dir, fake) as running:
        body = json.dumps({"uuid": "c1", "from": VICTIM[1:], "to": "15125550100"}).encode()
        token = make_jwt(
            SIGNATURE_SECRET,
            iat=time.time(),
            api_key=API_KEY,
            application_id=APPLICATION_ID,
        )
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        request = WebhookRequest("POST", "/hooks/acme/vonage/answer", headers, body)
        response = await request.send(running.client)
        assert response.status_code == 403 and "payload_hash" in response.text
        assert await running.recorded.calls() == []


async def test_an_owner_leg_url_the_hub_did_not_sign_is_refused(hub_dir, fake):
    async with catch_hub(hub_dir, fake, mode="forward") as running:
        hooks = VonageWebhooks()
        ncco = (await hooks.answer("c1").send(running.client)).json()
        genuine_url = connect_event_url(ncco)
        # A fresh, valid token on the hub's event route, naming a call and a caller of the
        # sender's choosing: the hub never handed Vonage that URL.
        forged_url = "event?" + urlencode(
            {"call": "c9", "from": VICTIM, "to": "+15125550100", "leg": "owner"}
        )
        response = await hooks.owner_event("c9", "timeout", VICTIM, event_url=forged_url).send(
            running.client
        )
        assert response.status_code == 401
        tampered = genuine_url.replace("15125550123", VICTIM[1:])
        response = await hooks.owner_event("c1", "timeout", event_url=tampered).send(running.client)
        assert response.status_code == 403
        await running.run_due_jobs()
        assert fake.texts == []
        # The URL the hub gave still works.
        ok = await hooks.owner_event("c1", "timeout", event_url=genuine_url).send(running.client)
        assert ok.status_code == 200
        await running.run_due_jobs()
        assert [text.to for text in fake.texts] == ["15125550123"]
