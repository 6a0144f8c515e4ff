"""`/metrics`: what an operator's Prometheus scrapes after a call and its text-back, and who
may scrape it."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub.models import Job
from hub.testing import business, in_process_hub, write_config
from hub.web import create_app

TOKEN = "scrape-token-0123456789"


def config(hub_dir, **metrics):
    return write_config(hub_dir, {"acme": business()}, metrics=metrics)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped, name: str, **labels: str) -> float | None:
    return scraped.get((name, frozenset(labels.items())))


async def test_a_call_and_its_text_show_up(hub_dir):
    async with in_process_hub(config(hub_dir)) as kit:
        assert (await kit.post_call(id="m1")).status_code == 200
        assert (await kit.client.post("/hooks/acme/generic/nowhere")).status_code == 404
        forged = await kit.post_call(secret="not-the-secret-at-all", id="m0")
        assert forged.status_code == 403
        await kit.run_due_jobs()
        now = kit.clock.now_ms()
        await Job.create(  # due a minute ago, of a kind no worker here runs
            kind="elsewhere", payload={}, state="available", max_attempts=1,
            run_at_ms=now - 60_000, created_at_ms=now - 60_000,
        )  # fmt: skip
        response = await kit.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        scraped = samples(response.text)
    call = "/hooks/{business}/generic/call"
    assert value(scraped, "hub_webhooks_total", route=call, status="200") == 1
    assert value(scraped, "hub_webhooks_total", route="unmatched", status="404") == 1
    assert value(scraped, "hub_webhooks_total", route=call, status="403") == 1
    texts = value(scraped, "hub_texts_total", business="acme", provider="memory", outcome="sent")
    assert texts == 1
    assert value(scraped, "hub_send_seconds_count", provider="memory") == 1
    delivered = value(scraped, "hub_sink_deliveries_total", sink="memory", outcome="delivered")
    assert delivered is not None and delivered >= 1
    assert value(scraped, "hub_sink_delivery_seconds_count", sink="memory") == delivered
    assert value(scraped, "hub_jobs", kind="elsewhere", state="available") == 1
    assert value(scraped, "hub_jobs_due", kind="elsewhere") == 1
    oldest = value(scraped, "hub_jobs_oldest_due_seconds", kind="elsewhere")
    assert oldest is not None and 60 <= oldest < 120
    assert value(scraped, "hub_jobs", kind="nudge", state="available") == 1  # later: not due
    assert value(scraped, "hub_jobs_due", kind="nudge") is None


async def test_only_loopback_or_the_token_may_scrape(hub_dir):
    async with in_process_hub(config(hub_dir, token=TOKEN)) as kit:
        app = create_app(kit.hub)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=kit.url) as remote:
            assert (await remote.get("/metrics")).status_code == 403
            wrong = {"Authorization": "Bearer not-the-token-at-all"}
            assert (await remote.get("/metrics", headers=wrong)).status_code == 403
            right = {"Authorization": f"Bearer {TOKEN}"}
            scraped = await remote.get("/metrics", headers=right)
            assert scraped.status_code == 200 and "hub_texts" in scraped.text
        assert (await kit.client.get("/metrics")).status_code == 200  # loopback, no token


async def test_a_network_allowed_in_hub_yaml_may_scrape(hub_dir):
    async with in_process_hub(config(hub_dir, allow=["10.0.0.0/8"])) as kit:
        app = create_app(kit.hub)
        for client, status in ((("10.1.2.3", 1), 200), (("127.0.0.1", 1), 403)):
            transport = httpx.ASGITransport(app=app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url=kit.url) as scraper:
                assert (await scraper.get("/metrics")).status_code == status


async def test_each_hub_counts_its_own(hub_dir, tmp_path):
    async with in_process_hub(config(hub_dir)) as kit:
        await kit.post_call(id="m2")
    other = tmp_path / "other"
    other.mkdir()
    async with in_process_hub(config(other)) as fresh:
        scraped = samples((await fresh.client.get("/metrics")).text)
    assert not any(name == "hub_webhooks_total" for name, _ in scraped)
