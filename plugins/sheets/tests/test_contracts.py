"""The sink contract every sink meets, against the fake Google."""

from __future__ import annotations

import pytest
from hub_sheets.columns import DEFAULT_COLUMNS
from hub_sheets.testing import sheets_sink

from hub.testing import SinkContract, free_port

LEAD_ID_COLUMN = DEFAULT_COLUMNS.index("lead_id")


class TestSheetsSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub, fake_google, hub_dir):
        async def make(outcome: str):
            settings = sheets_sink(fake_google, hub_dir)
            if outcome == "unreachable":
                settings["api_base_url"] = f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(sinks=[settings])
            return hub.sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake_google):
        async def count(event):
            return len(fake_google.rows_for_lead(event.lead.id, LEAD_ID_COLUMN))

        return count
