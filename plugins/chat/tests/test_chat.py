"""The slack, discord and teams sinks against fakes of each service: the contract, the wire
format, each error's meaning, escaping of the customer's words, and the SSRF guard."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from hub import DeliveryStatus, EventKind
from hub.testing import SinkContract, config_issues, free_port, sample_event, write_config
from hub.testing import business as business_settings

NASTY = "<!channel> @everyone <img src=x> *bold* <http://evil|x> 1. list"


def nasty_event(kind: EventKind = EventKind.NOTIFY_NEW_LEAD, **lead_fields):
    event = sample_event(kind)
    lead = replace(event.lead, customer_words=(NASTY,), name="Dana <@123>", **lead_fields)
    return replace(event, lead=lead)


class ChatContract(SinkContract):
    use = ""

    @pytest.fixture
    def fake(self):
        raise NotImplementedError

    def url_of(self, fake) -> str:
        return fake.url + "/hook"

    @pytest.fixture
    def make_sink(self, build_hub, fake):
        async def make(outcome: str, **more):
            url = (
                self.url_of(fake) if outcome == "delivered" else f"http://127.0.0.1:{free_port()}/x"
            )
            settings = {"use": self.use, "url": url, "allow_private": True, **more}
            return (await build_hub(sinks=[settings])).sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake):
        async def count(event):
            return fake.copies_of(event.id)

        return count

    async def test_a_server_error_is_retried(self, make_sink, fake):
        fake.server_error()
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert result.status == DeliveryStatus.RETRY and "503" in result.error

    async def test_a_private_target_fails_without_a_request(self, build_hub, fake):
        settings = {"use": self.use, "url": self.url_of(fake)}  # allow_private off
        sink = (await build_hub(sinks=[settings])).sinks("acme")[0]
        result = await sink.deliver(sample_event())
        assert result.status == DeliveryStatus.FAILED and "not a public address" in result.error
        assert fake.requests == []

    async def test_the_lead_and_a_link_are_in_the_message(self, make_sink, fake):
        sink = await make_sink("delivered", lead_url="https://crm.example.com/leads/{id}")
        event = nasty_event(service="drain cleaning", zip="78704", urgency="soon")
        assert (await sink.deliver(event)).status == DeliveryStatus.DELIVERED
        text = json.dumps(fake.messages[0], ensure_ascii=False)
        for value in (
            "+15125550123",
            "drain cleaning",
            "78704",
            "soon",
            "https://crm.example.com/leads/7",
        ):
            assert value in text, value


class TestSlack(ChatContract):
    use = "slack"

    @pytest.fixture
    def fake(self, fake_slack):
        return fake_slack

    async def test_block_kit_with_words_escaped(self, make_sink, fake_slack):
        await (await make_sink("delivered")).deliver(nasty_event())
        (message,) = fake_slack.messages
        text = json.dumps(message)
        assert "&lt;!channel&gt; @everyone &lt;img src=x&gt;" in text
        assert "&lt;http://evil|x&gt;" in text and "<!channel>" not in text
        assert "Dana &lt;@123&gt;" in text
        assert message["text"] and message["blocks"][0]["type"] == "header"

    @pytest.mark.parametrize(
        ("code", "says"),
        [
            ("channel_is_archived", "archived"),
            ("no_service", "removed"),
            ("invalid_payload", "could not read"),
            ("action_prohibited", "admin"),
            ("no_text", "without text"),
        ],
    )
    async def test_slack_errors_fail_with_a_clear_message(self, make_sink, fake_slack, code, says):
        fake_slack.fail_next(code)
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert result.status == DeliveryStatus.FAILED
        assert code in result.error and says in result.error

    async def test_a_rate_limit_waits_what_slack_says(self, make_sink, fake_slack):
        fake_slack.rate_limit(30)
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert (result.status, result.retry_after) == (DeliveryStatus.RETRY, 30.0)


class TestDiscord(ChatContract):
    use = "discord"

    @pytest.fixture
    def fake(self, fake_discord):
        return fake_discord

    def url_of(self, fake) -> str:
        return fake.webhook_url()

    async def test_embeds_ping_nobody_and_words_are_escaped(self, make_sink, fake_discord):
        result = await (await make_sink("delivered")).deliver(nasty_event())
        assert result.status == DeliveryStatus.DELIVERED and result.reference.isdigit()
        (request,) = fake_discord.requests
        assert request.query == {"wait": "true"}
        (message,) = fake_discord.messages
        assert message["allowed_mentions"] == {"parse": []}
        text = json.dumps(message, ensure_ascii=False)
        assert "@everyone" not in text and "@\u200beveryone" in text
        assert "\\\\*bold\\\\*" in text and "\\\\<img src=x\\\\>" in text
        words = [f["value"] for f in message["embeds"][0]["fields"] if f["name"] == "They wrote"]
        assert words == [
            "\\<\\!channel\\> @\u200beveryone \\<img src=x\\> \\*bold\\* \\<http\\://evil\\|x\\> 1\\. list"
        ]

    async def test_a_deleted_webhook_fails_clearly(self, make_sink, fake_discord):
        fake_discord.unknown_webhook()
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert result.status == DeliveryStatus.FAILED
        assert "404" in result.error and "deleted" in result.error

    async def test_a_rate_limit_waits_the_json_retry_after(self, make_sink, fake_discord):
        fake_discord.rate_limit(1.5)
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert (result.status, result.retry_after) == (DeliveryStatus.RETRY, 1.5)


class TestTeams(ChatContract):
    use = "teams"

    @pytest.fixture
    def fake(self, fake_teams):
        return fake_teams

    async def test_an_adaptive_card_with_words_as_text(self, make_sink, fake_teams):
        await (await make_sink("delivered")).deliver(nasty_event())
        (message,) = fake_teams.messages
        card = message["attachments"][0]["content"]
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
        texts = [block.get("text", "") for block in card["body"]]
        assert (
            "<\\!channel\\> @everyone <img src=x\\> \\*bold\\* <http://evil\\|x\\> 1. list" in texts
        )
        from hub_chat.teams import escape

        assert escape("1. first\n2. second") == "1\\. first\n2\\. second"  # not a list
        assert "MessageCard" not in json.dumps(message)

    async def test_a_deleted_workflow_fails_clearly(self, make_sink, fake_teams):
        fake_teams.not_found()
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert result.status == DeliveryStatus.FAILED and "deleted" in result.error

    async def test_a_throttled_workflow_is_retried(self, make_sink, fake_teams):
        fake_teams.rate_limit(10)
        result = await (await make_sink("delivered")).deliver(sample_event())
        assert (result.status, result.retry_after) == (DeliveryStatus.RETRY, 10.0)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("url", "ftp://hooks.slack.com/x", "http:// or https://"),
        ("lead_url", "https://crm.example.com/{lead}", "{id} and {business}"),
        ("lead_url", "crm/{id}", "http:// or https://"),
    ],
)
def test_bad_settings_are_refused(hub_dir, setting, value, message):
    sink = {"use": "slack", "url": "https://hooks.slack.com/services/T/B/x", setting: value}
    config = write_config(
        hub_dir, {"acme": business_settings(sinks=[sink], sms_sender={"use": "console"})}
    )
    ((path, said),) = config_issues(config)
    assert path == f"businesses.acme.sinks[0].{setting}" and message in said
