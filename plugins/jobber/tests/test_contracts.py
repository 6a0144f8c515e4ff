"""The sink contract, and the sink's own promises, against the fake Jobber."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hub_jobber.testing import ENCRYPTION_KEY, jobber_sink

from hub import DeliveryStatus, EventKind
from hub.testing import SinkContract, free_port, sample_event


class TestJobberSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub, fake_jobber):
        async def make(outcome: str = "delivered", **settings):
            selection = jobber_sink(fake_jobber, **settings)
            selection.pop("on")
            hub = await build_hub(sinks=[selection])
            sink = hub.sinks("acme")[0]
            # Connect through the routes' own code, as the owner's browser would.
            import httpx
            from starlette.applications import Starlette

            app = Starlette(routes=list(sink.routes()))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
                link = sink.connector.connect_url().split("/jobber", 1)[1]
                start = await c.get(link)
                back = fake_jobber.authorize(start.headers["location"]).split("/jobber", 1)[1]
                assert (await c.get(back)).status_code == 200
            if outcome == "unreachable":
                sink.api.config = sink.config.model_copy(
                    update={"api_base_url": f"http://127.0.0.1:{free_port()}"}
                )
            return sink

        return make

    @pytest.fixture
    def count_effects(self, fake_jobber):
        async def count(event):
            if event.kind == EventKind.LEAD_CREATED:
                return len(fake_jobber.requests_made)
            return sum(
                note.startswith(("Updated", "Customer texted", "Status"))
                for r in fake_jobber.requests_made.values()
                for note in r.notes
            )

        return count

    async def test_a_refused_client_is_final_with_jobbers_words(self, make_sink, fake_jobber):
        sink = await make_sink()
        fake_jobber.refuse_next("Phone number is invalid")
        result = await sink.deliver(sample_event(EventKind.LEAD_CREATED))
        assert result.status == DeliveryStatus.FAILED
        assert "Phone number is invalid" in (result.error or "")
        again = await sink.deliver(sample_event(EventKind.LEAD_CREATED, id="evt-2"))
        assert again.status == DeliveryStatus.DELIVERED  # nothing was left half-made
        assert len(fake_jobber.clients) == 1

    async def test_a_search_that_lags_never_duplicates_the_client(self, make_sink, fake_jobber):
        """The client's creation answered 500 but landed; the search does not show it yet:
        the retry waits for the search rather than create a second client."""
        fake_jobber.search_lag = 60
        sink = await make_sink()
        fake_jobber.lose_next_answer("clientCreate")
        event = sample_event(EventKind.LEAD_CREATED)
        first = await sink.deliver(event)
        assert first.status == DeliveryStatus.RETRY
        second = await sink.deliver(event)
        assert second.status == DeliveryStatus.RETRY and "search" in (second.error or "")
        assert (second.retry_after or 0) > 60
        assert len(fake_jobber.clients) == 1
        fake_jobber.search_lag = 0  # the search caught up
        assert (await sink.deliver(event)).status == DeliveryStatus.DELIVERED
        assert len(fake_jobber.clients) == 1 and len(fake_jobber.requests_made) == 1

    async def test_a_late_update_is_a_note_on_the_same_request(self, make_sink, fake_jobber):
        sink = await make_sink()
        created = sample_event(EventKind.LEAD_CREATED)
        await sink.deliver(created)
        update = sample_event(EventKind.LEAD_UPDATED, id="evt-9", version=2)
        update = replace(update, lead=replace(update.lead, zip="78704"))
        assert (await sink.deliver(update)).status == DeliveryStatus.DELIVERED
        [request] = fake_jobber.requests_made.values()
        assert len(request.notes) == 2
        assert ENCRYPTION_KEY not in repr(sink.config)
