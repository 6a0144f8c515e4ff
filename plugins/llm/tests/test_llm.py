"""The ``llm`` reply parser against ``FakeLlm``, a local OpenAI-compatible server: the parser
contract, each failure mode, the daily budget, and a hub where ``rules`` misses a field and
``llm`` fills it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hub_llm.testing import FakeLlm, llm_selection, malformed, rate_limited

from hub import ParseContext, ParsedReply, ReplyParser
from hub.testing import (
    InProcessHub,
    ManualClock,
    ReplyParserContract,
    ScriptedResponse,
    business,
    in_process_hub,
    write_config,
)

SERVICES = {"leak repair": ["leak", "leaking"], "water heater": ["hot water"]}
CHICAGO = ZoneInfo("America/Chicago")
#: Tuesday 2026-12-01, 10:00 in Chicago.
MORNING = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
SECRET_WORDS = "the thingy under the sink at 12 Elm St is spewing"


def llm_hub(directory: Path, fake: FakeLlm, **options: Any) -> InProcessHub:
    config = write_config(
        directory,
        {
            "acme": business(
                services=SERVICES,
                reply_parsers=[{"use": "rules"}, llm_selection(fake, **options)],
            )
        },
    )
    return in_process_hub(config, clock=ManualClock(MORNING))


def llm_of(kit: InProcessHub) -> ReplyParser:
    [parser] = [p for p in kit.hub.parsers("acme") if p.name == "llm"]
    return parser


def context(kit: InProcessHub, found: ParsedReply | None = None) -> ParseContext:
    return ParseContext(
        "acme",
        "America/Chicago",
        kit.clock.now().astimezone(CHICAGO),
        {name: tuple(words) for name, words in SERVICES.items()},
        found=found or ParsedReply(),
    )


def asked_keys(fake: FakeLlm, index: int = -1) -> list[str]:
    body = json.loads(fake.completions[index].body)
    schema = body["response_format"].get("json_schema", {}).get("schema", {})
    return list(schema.get("properties", {}))


@pytest.fixture
async def kit(hub_dir: Path, fake_llm: FakeLlm) -> AsyncIterator[InProcessHub]:
    async with llm_hub(hub_dir, fake_llm) as running:
        yield running


class TestContract(ReplyParserContract):
    @pytest.fixture
    def parser(self, kit: InProcessHub) -> ReplyParser:
        return llm_of(kit)


async def test_it_asks_only_for_what_is_empty_and_validates_the_answer(kit, fake_llm):
    fake_llm.knows(
        "thingy",
        {"service": "Leak Repair", "zip": "99999", "urgency": "emergency", "name": "jo"},
    )
    parser = llm_of(kit)
    found = await parser.parse(SECRET_WORDS, context(kit, ParsedReply(zip="78704")))
    assert found == ParsedReply(service="leak repair", urgency="emergency", name="Jo")
    assert "zip" not in asked_keys(fake_llm)
    assert set(asked_keys(fake_llm)) == {
        "service", "urgency", "callback_start", "callback_end", "name",
    }  # fmt: skip
    request = json.loads(fake_llm.completions[-1].body)
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    assert fake_llm.completions[-1].headers["authorization"] == f"Bearer {fake_llm.api_key}"


async def test_nothing_left_to_find_costs_no_request(hub_dir, fake_llm):
    fake_llm.knows("thingy", {"service": "water heater", "zip": "11111"})
    async with llm_hub(hub_dir, fake_llm, fields=["service", "zip"]) as kit:
        parser = llm_of(kit)
        found = ParsedReply(service="leak repair", zip="78704")
        assert await parser.parse(SECRET_WORDS, context(kit, found)) == ParsedReply()
        assert fake_llm.completions == []
        only_zip = await parser.parse(SECRET_WORDS, context(kit, ParsedReply(zip="78704")))
        assert only_zip == ParsedReply(service="water heater")
        assert asked_keys(fake_llm) == ["service"]


async def test_values_that_fail_the_checks_are_dropped(kit, fake_llm):
    fake_llm.knows(
        "thingy",
        {
            "service": "roofing",  # not in the catalog
            "zip": "1234",
            "urgency": "whenever",  # not an urgency: the whole answer is refused
            "name": "call me back please now",
        },
    )
    assert await llm_of(kit).parse(SECRET_WORDS, context(kit)) == ParsedReply()
    fake_llm.knows(
        "tomorrow",
        {"name": "call me back please now", "callback_start": "2031-01-01T09:00:00-06:00"},
    )
    assert await llm_of(kit).parse("tomorrow works", context(kit)) == ParsedReply()


async def test_a_callback_window_is_read_in_the_business_timezone(kit, fake_llm):
    fake_llm.knows(
        "after lunch",
        {"callback_start": "2026-12-01T13:00:00", "callback_end": "2026-12-01T15:00:00-06:00"},
    )
    found = await llm_of(kit).parse("after lunch is good", context(kit))
    assert found.callback is not None
    assert found.callback.start == datetime(2026, 12, 1, 13, 0, tzinfo=CHICAGO)
    assert found.callback.end == datetime(2026, 12, 1, 15, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("scripted", "logged"),
    [
        (ScriptedResponse(delay=3), "no answer for acme within 0.5 s"),
        (malformed(), "the answer is not JSON"),
        (malformed("[1, 2]"), "not an object"),
        (ScriptedResponse(status=500, body={"error": {"message": "boom"}}), "answered 500"),
    ],
)
async def test_each_failure_keeps_what_the_earlier_parsers_found(
    hub_dir, fake_llm, caplog, scripted, logged
):
    fake_llm.knows("thingy", {"service": "leak repair"})
    async with llm_hub(hub_dir, fake_llm, timeout=0.5) as kit:
        fake_llm.script(scripted)
        with caplog.at_level(logging.INFO):
            found = await llm_of(kit).parse(SECRET_WORDS, context(kit))
        assert found == ParsedReply()
        assert logged in caplog.text
        assert "thingy" not in caplog.text and "Elm" not in caplog.text  # no customer data
        # The next reply is read again.
        assert (await llm_of(kit).parse(SECRET_WORDS, context(kit))).service == "leak repair"


async def test_a_wrong_key_is_a_failure_not_a_crash(hub_dir, fake_llm, caplog):
    async with llm_hub(hub_dir, fake_llm, api_key="sk-wrong-key-000") as kit:
        with caplog.at_level(logging.INFO):
            assert await llm_of(kit).parse(SECRET_WORDS, context(kit)) == ParsedReply()
        assert "answered 401" in caplog.text
        assert "sk-wrong" not in caplog.text


async def test_a_429_pauses_the_parser_for_retry_after(kit, fake_llm, caplog):
    fake_llm.knows("thingy", {"service": "leak repair"})
    fake_llm.script(rate_limited(30))
    parser = llm_of(kit)
    with caplog.at_level(logging.INFO):
        assert await parser.parse(SECRET_WORDS, context(kit)) == ParsedReply()
    assert "pausing 30 s" in caplog.text
    assert await parser.parse(SECRET_WORDS, context(kit)) == ParsedReply()
    assert len(fake_llm.completions) == 1  # paused: not asked again
    kit.clock.advance(timedelta(seconds=31))
    assert (await parser.parse(SECRET_WORDS, context(kit))).service == "leak repair"
    assert len(fake_llm.completions) == 2


async def test_a_server_without_json_schema_gets_json_object(hub_dir):
    with FakeLlm(json_schema=False) as fake:
        fake.knows("thingy", {"service": "leak repair"})
        async with llm_hub(hub_dir, fake) as kit:
            parser = llm_of(kit)
            assert (await parser.parse(SECRET_WORDS, context(kit))).service == "leak repair"
            formats = [json.loads(r.body)["response_format"]["type"] for r in fake.completions]
            assert formats == ["json_schema", "json_object"]
            assert (await parser.parse(SECRET_WORDS, context(kit))).service == "leak repair"
            formats = [json.loads(r.body)["response_format"]["type"] for r in fake.completions]
            assert formats == ["json_schema", "json_object", "json_object"]
            system = json.loads(fake.completions[-1].body)["messages"][0]["content"]
            assert "JSON" in system  # json_object mode needs the word in the prompt


async def test_the_daily_budget_is_per_business_local_day(hub_dir, fake_llm, caplog):
    fake_llm.knows("thingy", {"service": "leak repair"})
    async with llm_hub(hub_dir, fake_llm, daily_budget=2) as kit:
        parser = llm_of(kit)
        for _ in range(2):
            assert (await parser.parse(SECRET_WORDS, context(kit))).service == "leak repair"
        with caplog.at_level(logging.INFO):
            assert await parser.parse(SECRET_WORDS, context(kit)) == ParsedReply()
        assert "daily budget of 2" in caplog.text
        assert len(fake_llm.completions) == 2
        # 23:30 in Chicago is still the same local day (05:30 UTC the next day).
        await kit.set_time(datetime(2026, 12, 2, 5, 30, tzinfo=UTC))
        assert await parser.parse(SECRET_WORDS, context(kit)) == ParsedReply()
        # After the business's midnight the budget is new.
        await kit.set_time(datetime(2026, 12, 2, 6, 5, tzinfo=UTC))
        assert (await parser.parse(SECRET_WORDS, context(kit))).service == "leak repair"
        assert len(fake_llm.completions) == 3


async def test_rules_misses_the_service_and_llm_fills_it(kit, fake_llm):
    fake_llm.knows("thingy", {"service": "leak repair", "zip": "11111", "name": "Dana"})
    await kit.post_call()
    await kit.run_due_jobs()
    await kit.text_in("the thingy under the sink is spewing, 78704")
    await kit.run_due_jobs()
    [lead] = await kit.recorded.leads()
    assert lead.service == "leak repair"  # from llm
    assert lead.zip == "78704"  # from rules: llm was not asked, and its 11111 is not used
    assert lead.name == "Dana"
    assert "zip" not in asked_keys(fake_llm)
    [summary] = [n for n in kit.outbox.notifications if n.kind == "summary"]
    assert "leak repair" in summary.text


async def test_an_opt_out_never_waits_for_the_model(kit, fake_llm):
    fake_llm.script(ScriptedResponse(delay=3))
    await kit.post_call()
    await kit.run_due_jobs()
    await kit.text_in("STOP")
    await kit.run_due_jobs()
    assert [o.phone for o in await kit.recorded.opt_outs()] == ["+15125550123"]
    assert fake_llm.completions == []
