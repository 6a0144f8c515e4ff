"""The ``webhook`` sink against a fake receiver: the contract, signatures checked by the
``standardwebhooks`` package, what each answer means, the body's size and the SSRF guard."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hub_webhook.config import WebhookConfig
from hub_webhook.payload import MAX_BYTES, payload
from hub_webhook.sink import SCHEDULE, backoff
from hub_webhook.testing import FakeReceiver, new_secret
from pydantic import ValidationError
from standardwebhooks import Webhook

from hub import DeliveryStatus, EventKind
from hub.testing import (
    ScriptedResponse,
    SinkContract,
    config_issues,
    free_port,
    run_cli,
    sample_event,
    write_config,
)
from hub.testing import business as business_settings

SECRET = new_secret()
WORDS = "<!channel> @everyone <img src=x> \"quoted\" & 'single' \u2028 done"


def settings(url: str, **more: object) -> dict[str, object]:
    return {"use": "webhook", "url": url, "secret": SECRET, "allow_private": True, **more}


class TestWebhookSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub, fake_receiver):
        async def make(outcome: str):
            url = fake_receiver.url if outcome == "delivered" else f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(sinks=[settings(url + "/hooks")])
            return hub.sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake_receiver):
        async def count(event):
            return fake_receiver.copies_of(event.id)

        return count

    @pytest.fixture
    async def sink(self, make_sink):
        return await make_sink("delivered")

    # -- the wire ---------------------------------------------------------------------------------

    async def test_each_post_is_signed_as_standard_webhooks_verifies(self, sink, fake_receiver):
        event = sample_event(EventKind.LEAD_CREATED, id="evt0042.0")
        assert (await sink.deliver(event)).status == DeliveryStatus.DELIVERED
        (request,) = fake_receiver.requests
        verified = Webhook(SECRET).verify(request.body, request.headers)  # an independent check
        assert request.headers["webhook-id"] == "evt0042.0"
        assert request.headers["content-type"] == "application/json"
        assert verified["type"] == "lead.created"
        assert verified["timestamp"] == "2026-12-01T18:01:00+00:00"
        data = verified["data"]
        assert data["version"] == 1 and data["event_id"] == "evt0042.0"
        assert data["lead"]["id"] == 7 and data["lead"]["caller"] == "+15125550123"
        assert data["lead"]["customer_words"][0] == "<b>my sink</b> is leaking & 78704"

    async def test_a_forged_or_other_secret_does_not_verify(self, sink, fake_receiver):
        from standardwebhooks.webhooks import WebhookVerificationError

        await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        (request,) = fake_receiver.requests
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(request.body + b" ", request.headers)

    async def test_a_retry_keeps_its_id_and_signs_a_new_timestamp(self, sink, fake_receiver):
        fake_receiver.script(ScriptedResponse(status=503))
        event = sample_event(EventKind.LEAD_CREATED, id="evt0007.0")
        assert (await sink.deliver(event)).status == DeliveryStatus.RETRY
        assert (await sink.deliver(replace(event, attempt=2))).status == DeliveryStatus.DELIVERED
        first, second = fake_receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == "evt0007.0"
        for request in (first, second):
            Webhook(SECRET).verify(request.body, request.headers)

    async def test_customer_words_arrive_verbatim_as_json_data(self, sink, fake_receiver):
        event = sample_event(EventKind.LEAD_CREATED)
        lead = replace(event.lead, customer_words=(WORDS,))
        await sink.deliver(replace(event, lead=lead))
        (request,) = fake_receiver.requests
        assert request.json["data"]["lead"]["customer_words"] == [WORDS]

    # -- what each answer means -------------------------------------------------------------------

    @pytest.mark.parametrize("status", [429, 500, 502, 503, 408])
    async def test_transient_answers_retry_on_the_schedule(self, sink, fake_receiver, status):
        fake_receiver.script(ScriptedResponse(status=status, body={"error": "busy"}))
        event = replace(sample_event(EventKind.LEAD_CREATED), attempt=3)
        result = await sink.deliver(event)
        assert result.status == DeliveryStatus.RETRY and str(status) in result.error
        assert SCHEDULE[2] * 0.9 <= result.retry_after <= SCHEDULE[2] * 1.1  # 30 min, jittered

    async def test_retry_after_is_honoured_in_seconds_and_as_a_date(self, sink, fake_receiver):
        soon = datetime.now(UTC) + timedelta(seconds=90)
        fake_receiver.script(
            ScriptedResponse(status=429, body={}, headers={"Retry-After": "42"}),
            ScriptedResponse(status=503, body={}, headers={"Retry-After": format_datetime(soon)}),
        )
        first = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        second = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        assert (first.status, first.retry_after) == (DeliveryStatus.RETRY, 42.0)
        assert second.status == DeliveryStatus.RETRY and 80 <= second.retry_after <= 91

    def test_the_schedule_is_the_specs(self):
        assert SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
        assert 4.5 <= backoff(1) <= 5.5 and 86400 * 0.9 <= backoff(12) <= 86400 * 1.1

    async def test_a_network_error_retries(self, make_sink):
        sink = await make_sink("unreachable")
        result = await sink.deliver(replace(sample_event(EventKind.LEAD_CREATED), attempt=2))
        assert result.status == DeliveryStatus.RETRY and "ConnectError" in result.error
        assert 270 <= result.retry_after <= 330

    async def test_a_redirect_fails_and_is_not_followed(self, sink, fake_receiver):
        fake_receiver.redirect(f"{fake_receiver.url}/elsewhere")
        result = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        assert result.status == DeliveryStatus.FAILED and "redirect" in result.error
        assert [r.path for r in fake_receiver.requests] == ["/hooks"]

    async def test_another_4xx_fails_with_what_the_receiver_said(self, sink, fake_receiver):
        fake_receiver.script(ScriptedResponse(status=422, body={"error": "unknown type"}))
        result = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        assert result.status == DeliveryStatus.FAILED
        assert "422" in result.error and "unknown type" in result.error

    async def test_410_disables_the_endpoint_without_more_requests(self, sink, fake_receiver):
        fake_receiver.gone()
        gone = await sink.deliver(sample_event(EventKind.LEAD_CREATED, id="evt0001.0"))
        later = await sink.deliver(sample_event(EventKind.LEAD_CREATED, id="evt0002.0"))
        assert gone.status == later.status == DeliveryStatus.FAILED
        assert "410" in gone.error and later.error.startswith("disabled: ")
        assert len(fake_receiver.requests) == 1
        (warning,) = await sink.warnings()
        assert "410 Gone" in warning and "/hooks" not in warning  # the path may hold a token

    # -- the body ---------------------------------------------------------------------------------

    def test_a_long_conversation_is_cut_under_20_kb_keeping_the_newest_words(self):
        event = sample_event(EventKind.NOTIFY_NEW_LEAD)
        words = tuple(f"{i:03} " + "ü" * 3000 for i in range(20))  # 2 bytes each in UTF-8
        body = payload(replace(event, lead=replace(event.lead, customer_words=words)))
        assert len(body) <= MAX_BYTES
        data = json.loads(body)["data"]
        assert data["truncated"] is True
        assert data["lead"]["customer_words"][-1].startswith("019 ")
        assert 0 < len(data["lead"]["customer_words"]) < 20  # the oldest went

    def test_one_huge_text_is_cut_and_marked(self):
        event = sample_event(EventKind.NOTIFY_NEW_LEAD)
        body = payload(replace(event, lead=replace(event.lead, customer_words=("x" * 50_000,))))
        assert len(body) <= MAX_BYTES
        (word,) = json.loads(body)["data"]["lead"]["customer_words"]
        assert word.endswith("…") and len(word) < 50_000

    def test_a_short_body_is_whole(self):
        data = json.loads(payload(sample_event(EventKind.LEAD_UPDATED)))["data"]
        assert data["truncated"] is False
        assert data["changes"] == {"zip": {"before": None, "after": "78704"}}


# -- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("s3cretvalue-that-is-long", "must start with whsec_"),
        ("whsec_not*base64!!", "must be base64"),
        ("whsec_c2hvcnQ=", "24 to 64 bytes"),
    ],
)
def test_a_bad_secret_is_refused_without_being_quoted(hub_dir, secret, message):
    sinks = [settings("https://h.example.com", secret=secret)]
    config = write_config(
        hub_dir, {"acme": business_settings(sinks=sinks, sms_sender={"use": "console"})}
    )
    issues = config_issues(config)
    assert [path for path, _ in issues] == ["businesses.acme.sinks[0].secret"]
    assert message in issues[0][1] and secret not in issues[0][1]


def test_the_secret_never_shows_in_a_repr():
    config = WebhookConfig(url="https://h.example.com", secret=SECRET)
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())


def test_a_url_must_be_http():
    with pytest.raises(ValidationError, match="http:// or https://"):
        WebhookConfig(url="ftp://h.example.com/x", secret=SECRET)


@pytest.mark.parametrize(
    ("url", "allow_private", "expected"),
    [
        ("https://hooks.example.com/x", False, None),
        ("http://hooks.example.com/x", False, "unencrypted"),
        ("http://10.0.0.5/x", False, "not a public address"),
        ("http://10.0.0.5/x", True, None),
    ],
)
def test_hub_check_refuses_private_and_plain_http_targets(hub_dir, url, allow_private, expected):
    sinks = [settings(url, allow_private=allow_private)]
    config = write_config(
        hub_dir, {"acme": business_settings(sinks=sinks, sms_sender={"use": "console"})}
    )
    result = run_cli("check", "--config", str(config))
    if expected is None:
        assert result.returncode == 0, result.output
    else:
        assert result.returncode == 2 and expected in result.stderr
        assert "businesses.acme.sinks[0]" in result.stderr


# -- SSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:{port}/hooks",
        "http://127.0.0.1:{port}/hooks",
        "http://[::1]:{port}/hooks",
        "http://10.0.0.9/hooks",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_a_private_target_fails_without_a_request(build_hub_for_ssrf, url):
    sink, fake = await build_hub_for_ssrf(url)
    result = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
    assert result.status == DeliveryStatus.FAILED and "not a public address" in result.error
    assert fake.requests == []


@pytest.fixture
async def build_hub_for_ssrf(hub_dir):
    from hub.testing import hub_with, prepare_database

    started = []
    with FakeReceiver() as fake:

        async def build(url: str):
            hub = hub_with(
                hub_dir, sinks=[settings(url.format(port=fake.port), allow_private=False)]
            )
            await prepare_database(hub)
            await hub.start(worker=False)
            started.append(hub)
            return hub.sinks("acme")[0], fake

        yield build
        for hub in started:
            await hub.stop()
