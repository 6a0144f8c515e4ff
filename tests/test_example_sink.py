"""The sink plugin of CONTRIBUTING.md's walkthrough (``tests/example_sink/postbin.py``), tested
the way its author would: the sink contract against a fake receiver built on the kit, and a whole
hub conversation. The walkthrough quotes this file and the example; a test below fails when they
drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from starlette.responses import JSONResponse

from hub import DeliveryStatus, EventKind
from hub.testing import (
    FakeProviderServer,
    ScriptedResponse,
    SinkContract,
    business,
    free_port,
    in_process_hub,
    sample_event,
    write_config,
)
from tests.example_sink import postbin
from tests.test_plugin_api import hub_imports

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGH = "## Walkthrough: a webhook sink"


class FakePostbin(FakeProviderServer):
    """A request bin on 127.0.0.1 that keeps every event it accepts, as a naive receiver
    would: a repeat POST leaves a second copy. ``script(...)`` plays outages first."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[dict] = []

    async def handle(self, request, recorded):
        self.kept.append(recorded.json)
        return JSONResponse({"kept": len(self.kept)}, status_code=201)

    def copies_of(self, event_id: str) -> int:
        return sum(body["id"] == event_id for body in self.kept)


@pytest.fixture
def fake_postbin():
    with FakePostbin() as fake:
        yield fake


class TestPostbinSink(SinkContract):
    extra_plugins = (postbin,)  # not installed here; an installed plugin's entry point does this

    @pytest.fixture
    def make_sink(self, build_hub, fake_postbin):
        async def make(outcome: str):
            url = fake_postbin.url if outcome == "delivered" else f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(sinks=[{"use": "postbin", "url": url}])
            return hub.sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake_postbin):
        async def count(event):
            return fake_postbin.copies_of(event.id)

        return count

    # What the contract does not cover: this sink's own promises.

    async def test_a_stale_update_is_dropped(self, make_sink, fake_postbin):
        sink = await make_sink("delivered")
        newer = sample_event(EventKind.LEAD_UPDATED, id="evt0002.0", version=2)
        older = sample_event(EventKind.LEAD_UPDATED, id="evt0001.0", version=1)
        assert (await sink.deliver(newer)).status == DeliveryStatus.DELIVERED
        assert (await sink.deliver(older)).status == DeliveryStatus.DELIVERED  # nothing to do
        assert [body["id"] for body in fake_postbin.kept] == ["evt0002.0"]

    async def test_429_is_retried_after_what_it_says_and_4xx_fails(self, make_sink, fake_postbin):
        sink = await make_sink("delivered")
        fake_postbin.script(
            ScriptedResponse(status=429, headers={"Retry-After": "120"}),
            ScriptedResponse(status=422, body={"error": "no such field"}),
        )
        limited = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        assert (limited.status, limited.retry_after) == (DeliveryStatus.RETRY, 120.0)
        refused = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        assert refused.status == DeliveryStatus.FAILED and "422" in refused.error
        assert fake_postbin.kept == []

    async def test_each_post_carries_its_idempotency_key_and_the_token(
        self, build_hub, fake_postbin
    ):
        settings = {"use": "postbin", "url": fake_postbin.url, "token": "s3cret"}
        sink = (await build_hub(sinks=[settings])).sinks("acme")[0]
        await sink.deliver(sample_event(EventKind.LEAD_CREATED, id="evt0042.0"))
        (request,) = fake_postbin.requests
        assert request.headers["idempotency-key"] == "evt0042.0"
        assert request.headers["authorization"] == "Bearer s3cret"
        assert request.json["lead"]["id"] == 7 and request.json["kind"] == "lead.created"


async def test_a_missed_call_posts_lead_created_once_through_a_503(hub_dir, fake_postbin):
    fake_postbin.script(ScriptedResponse(status=503, headers={"Retry-After": "30"}))
    sinks = [{"use": "postbin", "url": fake_postbin.url}]
    config = write_config(hub_dir, {"acme": business(sinks=sinks)})
    async with in_process_hub(config, extra_plugins=[postbin]) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()  # the text-back, and a first POST that gets the 503
        assert fake_postbin.kept == []
        await kit.advance(seconds=29)
        assert fake_postbin.kept == []  # Retry-After: 30 is honoured
        await kit.advance(seconds=1)  # the retry
        await kit.advance(hours=24)  # and whatever else would ever come
    assert [body["kind"] for body in fake_postbin.kept] == ["lead.created"]
    keys = [request.headers["idempotency-key"] for request in fake_postbin.requests]
    assert keys == [fake_postbin.kept[0]["id"]] * 2  # the 503'd POST and its retry: one id


# -- the walkthrough and the example stay one ------------------------------------------------------


def walkthrough_blocks(language: str) -> list[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert WALKTHROUGH in text, f"CONTRIBUTING.md has no {WALKTHROUGH!r} section"
    section = text.split(WALKTHROUGH, 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_the_walkthroughs_code_is_the_examples_code():
    sources = [Path(postbin.__file__).read_text(encoding="utf-8"), Path(__file__).read_text()]
    blocks = walkthrough_blocks("python")
    assert len(blocks) >= 5
    for block in blocks:
        assert any(block in source for source in sources), f"not in the example:\n{block}"


def test_the_walkthroughs_pyproject_and_hub_yaml_hold(hub_dir, monkeypatch):
    (pyproject,) = walkthrough_blocks("toml")
    entry_points = tomllib.loads(pyproject)["project"]["entry-points"]["hub"]
    assert entry_points == {"postbin": "hub_postbin"}
    (hub_yaml,) = walkthrough_blocks("yaml")
    monkeypatch.setenv("POSTBIN_TOKEN", "t")
    settings = yaml.load(hub_yaml, Loader=yaml.BaseLoader)["businesses"]["acme"]  # `on:` stays "on"
    config = write_config(hub_dir, {"acme": business(sinks=settings["sinks"])})
    hub = in_process_hub(config, extra_plugins=[postbin]).hub  # loading validates every selection
    assert [sink.name for sink in hub.sinks("acme")] == ["email", "postbin"]
    assert settings["sinks"][1]["on"] == ["lead.created", "lead.status_changed", "message.received"]


def test_the_example_imports_only_the_public_api():
    assert list(hub_imports(Path(postbin.__file__))) == []
