"""The sink contract every sink meets, and this sink's own promises, against the fake Google:
real google-auth and httpx over HTTP to 127.0.0.1."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from hub_sheets.columns import DEFAULT_COLUMNS
from hub_sheets.testing import DEFAULT_SPREADSHEET, Formula, sheets_sink

from hub import DeliveryStatus, EventKind
from hub.testing import ScriptedResponse, SinkContract, eventually, free_port, sample_event

LEAD_ID = DEFAULT_COLUMNS.index("lead_id")
HEADER = [
    "Received",
    "Status",
    "Name",
    "Phone",
    "Service",
    "ZIP",
    "Urgency",
    "Callback",
    "After hours",
    "Customer's words",
    "Business",
    "Lead #",
]


def event(kind=EventKind.LEAD_CREATED, *, id=None, version=1, lead_id=7, **fields):
    """``sample_event`` about lead ``lead_id``, its lead changed by ``fields``; its id is one
    of its own unless given (the same id is the hub's retry of one event)."""
    base = sample_event(kind, id=id or f"evt-{lead_id}-{kind}-{version}.0", version=version)
    return replace(base, lead=replace(base.lead, id=lead_id, version=version, **fields))


def column(row, name):
    return row[DEFAULT_COLUMNS.index(name)]


class TestSheetsSink(SinkContract):
    @pytest.fixture
    def make_sink(self, build_hub, fake_google, hub_dir):
        async def make(outcome: str = "delivered", **settings):
            selection = sheets_sink(fake_google, hub_dir, **settings)
            if outcome == "unreachable":
                selection["api_base_url"] = f"http://127.0.0.1:{free_port()}"
            hub = await build_hub(sinks=[selection])
            return hub.sinks("acme")[0]

        return make

    @pytest.fixture
    def count_effects(self, fake_google):
        async def count(event):
            return len(fake_google.rows_for_lead(event.lead.id, LEAD_ID))

        return count

    # -- rows -------------------------------------------------------------------------------------

    async def test_a_new_lead_is_a_header_and_a_row_of_its_fields(self, make_sink, fake_google):
        sink = await make_sink()
        result = await sink.deliver(event(name="Dana", zip="78704", service="water heater"))
        assert (result.status, result.reference) == (DeliveryStatus.DELIVERED, "Leads!A2:L2")
        header, row = fake_google.rows()
        assert header == HEADER
        assert row == [
            "2026-12-01 12:00",  # 18:00 UTC in America/Chicago
            "new",
            "Dana",
            "+15125550123",
            "water heater",
            "78704",
            "",
            "",
            "no",
            '<b>my sink</b> is leaking & 78704\n=HYPERLINK("http://x")',
            "Acme Plumbing",
            7,
        ]

    async def test_an_update_rewrites_the_same_row(self, make_sink, fake_google):
        sink = await make_sink()
        await sink.deliver(event(id="evt0001.0", version=1))
        await sink.deliver(event(id="evt0002.0", version=2, lead_id=8))
        updated = event(EventKind.LEAD_UPDATED, id="evt0003.0", version=2, zip="78701")
        status = event(
            EventKind.LEAD_STATUS_CHANGED, id="evt0004.0", version=3, zip="78701", status="booked"
        )
        assert (await sink.deliver(updated)).reference == "Leads!A2:L2"
        assert (await sink.deliver(status)).status == DeliveryStatus.DELIVERED
        rows = fake_google.rows()
        assert len(rows) == 3  # the header, lead 7, lead 8
        assert [column(rows[1], n) for n in ("lead_id", "zip", "status")] == [7, "78701", "booked"]
        assert column(rows[2], "lead_id") == 8
        assert [r.method for r in fake_google.writes] == ["POST", "POST", "PUT", "PUT"]

    async def test_a_sorted_or_trimmed_tab_never_gets_a_lead_over_another(
        self, make_sink, fake_google
    ):
        sink = await make_sink()
        await sink.deliver(event(lead_id=7))
        await sink.deliver(event(lead_id=8))
        rows = fake_google.spreadsheets[DEFAULT_SPREADSHEET].tabs["Leads"]
        rows[1], rows[2] = rows[2], rows[1]  # the owner sorted: lead 8 first
        moved = await sink.deliver(event(EventKind.LEAD_UPDATED, version=2, zip="78701"))
        assert moved.reference == "Leads!A3:L3"
        assert [column(r, "lead_id") for r in fake_google.rows()[1:]] == [8, 7]
        assert column(fake_google.rows()[2], "zip") == "78701"
        del rows[2]  # the owner deleted lead 7's row: it comes back, once
        back = await sink.deliver(event(EventKind.LEAD_UPDATED, version=3, zip="78702"))
        assert back.status == DeliveryStatus.DELIVERED
        assert [column(r, "lead_id") for r in fake_google.rows()[1:]] == [8, 7]
        assert column(fake_google.rows()[2], "zip") == "78702"

    async def test_a_stale_update_does_not_overwrite_a_newer_one(self, make_sink, fake_google):
        sink = await make_sink()
        await sink.deliver(event(version=1))
        newer = event(EventKind.LEAD_UPDATED, id="evt0003.0", version=3, zip="78701")
        older = event(EventKind.LEAD_UPDATED, id="evt0002.0", version=2, zip="78799")
        assert (await sink.deliver(newer)).status == DeliveryStatus.DELIVERED
        assert (await sink.deliver(older)).reference == "stale"
        assert column(fake_google.rows()[1], "zip") == "78701"
        assert len(fake_google.writes) == 2

    async def test_what_looks_like_a_formula_or_a_number_stays_text(self, make_sink, fake_google):
        sink = await make_sink()
        words = ('=HYPERLINK("http://evil.example","click")', "+15125550199", "TRUE")
        await sink.deliver(event(name="=1+1", customer_words=words))
        row = fake_google.rows()[1]
        assert column(row, "name") == "=1+1"
        assert column(row, "phone") == "+15125550123"
        assert column(row, "words") == "\n".join(words)
        assert all(isinstance(cell, str | int) and not isinstance(cell, bool) for cell in row)

    async def test_the_fake_would_have_made_a_formula_of_user_entered(self, fake_google, hub_dir):
        # What the test above guards against is real: USER_ENTERED parses what it is given.
        key = fake_google.service_account_key()
        sheets_sink(fake_google, hub_dir, key=key)
        token = fake_google.issue_token(key["client_email"])
        async with httpx.AsyncClient(base_url=fake_google.url) as client:
            answer = await client.put(
                "/v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/Leads!A1",
                params={"valueInputOption": "USER_ENTERED"},
                headers={"Authorization": f"Bearer {token}"},
                json={"values": [["=HYPERLINK(1)", "+15125550199", "TRUE", "hi"]]},
            )
        assert answer.status_code == 200, answer.text
        assert fake_google.rows() == [[Formula("=HYPERLINK(1)"), 15125550199, True, "hi"]]

    async def test_a_tab_named_with_spaces_and_quotes_is_quoted(self, make_sink, fake_google):
        fake_google.add_spreadsheet(tabs=("Bob's Leads",))
        sink = await make_sink(sheet="Bob's Leads")
        first = await sink.deliver(event())
        assert first.reference == "'Bob''s Leads'!A2:L2"
        again = await sink.deliver(event(EventKind.LEAD_UPDATED, id="evt0002.0", version=2))
        assert again.reference == "'Bob''s Leads'!A2:L2"
        assert len(fake_google.rows("Bob's Leads")) == 2

    async def test_no_header_when_the_tab_has_rows(self, make_sink, fake_google):
        fake_google.add_spreadsheet().tabs["Leads"].append(["Our own header"])
        sink = await make_sink()
        assert (await sink.deliver(event())).reference == "Leads!A2:L2"
        assert fake_google.rows()[0] == ["Our own header"]

    # -- retries, once only -----------------------------------------------------------------------

    async def test_an_append_google_made_but_whose_answer_was_lost_is_not_repeated(
        self, make_sink, fake_google
    ):
        sink = await make_sink(timeout=0.5)
        await sink.deliver(event(lead_id=1))  # the header and the token, out of the way
        # Google appends lead 7's row after the sink stopped waiting: its answer is lost.
        fake_google.script(ScriptedResponse(delay=1.5))
        lost = await sink.deliver(event(id="evt0002.0"))
        assert lost.status == DeliveryStatus.RETRY
        await eventually(lambda: fake_google.rows_for_lead(7, LEAD_ID)[0])
        retried = await sink.deliver(event(id="evt0002.0"))
        assert retried.status == DeliveryStatus.DELIVERED
        assert len(fake_google.rows_for_lead(7, LEAD_ID)) == 1
        assert retried.reference == "Leads!A3:L3"  # found by its lead id, then rewritten

    async def test_an_update_before_the_row_exists_waits_for_the_append(
        self, make_sink, fake_google
    ):
        sink = await make_sink()
        await sink.deliver(event(lead_id=1))
        fake_google.script(ScriptedResponse(status=503, body={"error": {"code": 503}}))
        created = event(id="evt0002.0")
        assert (await sink.deliver(created)).status == DeliveryStatus.RETRY
        update = event(EventKind.LEAD_UPDATED, id="evt0003.0", version=2, zip="78701")
        early = await sink.deliver(update)
        assert (early.status, early.retry_after) == (DeliveryStatus.RETRY, 30.0)
        assert "being added" in early.error
        assert (await sink.deliver(created)).status == DeliveryStatus.DELIVERED
        assert (await sink.deliver(update)).status == DeliveryStatus.DELIVERED
        (row,) = fake_google.rows_for_lead(7, LEAD_ID)
        assert column(row, "zip") == "78701"

    async def test_429_is_retried_after_what_it_says(self, make_sink, fake_google):
        sink = await make_sink()
        await sink.deliver(event(lead_id=1))
        fake_google.script(
            ScriptedResponse(
                status=429,
                body={
                    "error": {
                        "code": 429,
                        "message": "Quota exceeded",
                        "status": "RESOURCE_EXHAUSTED",
                    }
                },
                headers={"Retry-After": "17"},
            )
        )
        limited = await sink.deliver(event())
        assert (limited.status, limited.retry_after) == (DeliveryStatus.RETRY, 17.0)
        assert "429 RESOURCE_EXHAUSTED" in limited.error
        assert (await sink.deliver(event())).status == DeliveryStatus.DELIVERED
        assert len(fake_google.rows_for_lead(7, LEAD_ID)) == 1

    async def test_over_googles_write_quota_is_retried_with_backoff(self, make_sink, fake_google):
        fake_google.write_quota = 1
        sink = await make_sink()
        await sink.deliver(event(lead_id=1))
        limited = await sink.deliver(event())
        assert (limited.status, limited.retry_after) == (DeliveryStatus.RETRY, None)
        assert "Write requests per minute per user" in limited.error

    async def test_writes_are_held_under_the_per_minute_budget(self, make_sink, fake_google):
        sink = await make_sink(writes_per_minute=2)  # one now, then one every 30 seconds
        assert (await sink.deliver(event(lead_id=1))).status == DeliveryStatus.DELIVERED
        held = await sink.deliver(event())
        assert held.status == DeliveryStatus.RETRY and 29 < held.retry_after <= 31
        assert "2 a minute" in held.error
        assert len(fake_google.writes) == 1  # held here, not refused by Google

    # -- the token --------------------------------------------------------------------------------

    async def test_the_token_is_fetched_once_and_reused(self, make_sink, fake_google):
        sink = await make_sink()
        results = await asyncio.gather(*(sink.deliver(event(lead_id=n)) for n in range(1, 6)))
        assert {r.status for r in results} == {DeliveryStatus.DELIVERED}
        await sink.deliver(event(EventKind.LEAD_UPDATED, id="evt0002.0", version=2, lead_id=3))
        assert len(fake_google.token_requests) == 1
        assert len(fake_google.writes) == 6

    async def test_a_token_about_to_expire_is_fetched_anew(self, make_sink, fake_google):
        fake_google.expires_in = 60  # inside google-auth's refresh margin: expired at once
        sink = await make_sink()
        await sink.deliver(event(lead_id=1))  # reads the header row, appends
        await sink.deliver(event(lead_id=2))  # appends
        calls = [r for r in fake_google.requests if r.path != "/token"]
        assert len(fake_google.token_requests) == len(calls) == 3

    async def test_a_token_google_stops_taking_is_replaced(self, make_sink, fake_google):
        sink = await make_sink()
        await sink.deliver(event(lead_id=1))
        fake_google.tokens.clear()  # revoked early, as Google may
        refused = await sink.deliver(event())
        assert refused.status == DeliveryStatus.RETRY and "401 UNAUTHENTICATED" in refused.error
        assert (await sink.deliver(event())).status == DeliveryStatus.DELIVERED
        assert len(fake_google.token_requests) == 2

    # -- what the owner must fix ------------------------------------------------------------------

    async def test_a_sheet_not_shared_says_whom_to_share_it_with(
        self, build_hub, fake_google, hub_dir
    ):
        key = fake_google.service_account_key()
        selection = sheets_sink(fake_google, hub_dir, key=key, share=False)
        sink = (await build_hub(sinks=[selection])).sinks("acme")[0]
        refused = await sink.deliver(event())
        assert refused.status == DeliveryStatus.FAILED
        assert f"share the sheet with {key['client_email']} as an Editor" in refused.error
        assert "PERMISSION_DENIED" in refused.error
        (token,) = fake_google.tokens
        for shown in (refused.error, repr(sink), repr(sink.config), repr(sink.account)):
            assert key["private_key"] not in shown and token not in shown
            assert "BEGIN PRIVATE KEY" not in shown
        # Once shared, the same lead goes in: the refused append left nothing under way.
        fake_google.spreadsheets[selection["spreadsheet_id"]].shared_with.add(key["client_email"])
        assert (await sink.deliver(event(id="evt0002.0"))).status == DeliveryStatus.DELIVERED

    async def test_a_wrong_spreadsheet_id_or_tab_says_so(self, make_sink):
        wrong_id = await make_sink(spreadsheet_id="1NoSuchSpreadsheet000000000")
        refused = await wrong_id.deliver(event())
        assert refused.status == DeliveryStatus.FAILED and "check spreadsheet_id" in refused.error

    async def test_a_wrong_tab_says_so(self, make_sink):
        sink = await make_sink(sheet="Leeds")
        refused = await sink.deliver(event())
        assert refused.status == DeliveryStatus.FAILED
        assert (
            "has no tab by that name" in refused.error and "Unable to parse range" in refused.error
        )

    async def test_a_deleted_key_fails_with_what_to_do(self, make_sink, fake_google, hub_dir):
        key = fake_google.service_account_key()
        sink = await make_sink(key=key)
        fake_google.revoke(key["client_email"])
        refused = await sink.deliver(event())
        assert refused.status == DeliveryStatus.FAILED
        assert "invalid_grant" in refused.error and "create a new JSON key" in refused.error
        assert key["private_key"] not in refused.error and key["client_email"] in refused.error

    async def test_a_token_endpoint_out_of_reach_is_retried(self, build_hub, fake_google, hub_dir):
        key = fake_google.service_account_key()
        key["token_uri"] = f"http://127.0.0.1:{free_port()}/token"
        sink = (await build_hub(sinks=[sheets_sink(fake_google, hub_dir, key=key)])).sinks("acme")[
            0
        ]
        result = await sink.deliver(event())
        assert result.status == DeliveryStatus.RETRY and "token endpoint" in result.error
