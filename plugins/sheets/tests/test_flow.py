"""Whole conversations in an in-process hub whose sheets sink writes to the fake Google."""

from __future__ import annotations

from hub_sheets.columns import DEFAULT_COLUMNS
from hub_sheets.testing import sheets_sink

from hub.testing import ScriptedResponse, business, in_process_hub, write_config

LEAD_ID = DEFAULT_COLUMNS.index("lead_id")


def column(row, name):
    return row[DEFAULT_COLUMNS.index(name)]


def sheets_hub(hub_dir, fake_google, **settings):
    sink = sheets_sink(fake_google, hub_dir, **settings)
    sinks = [{"use": "memory"}, sink]  # the owner's notifications go on as before
    return in_process_hub(
        write_config(hub_dir, {"acme": business(sinks=sinks, text_back={"delay": 0})})
    )


async def test_a_missed_call_and_its_replies_are_one_row_kept_up_to_date(hub_dir, fake_google):
    async with sheets_hub(hub_dir, fake_google) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
        header, row = fake_google.rows()
        assert header[0] == "Received" and column(row, "lead_id") == lead.id
        assert column(row, "phone") == "+15125550123" and column(row, "status") == "new"

        await kit.text_in("water heater is leaking, 78704, this is Dana")
        await kit.run_due_jobs()
        await kit.text_in('=HYPERLINK("http://evil.example","call me")')
        await kit.run_due_jobs()
        await kit.hub.leads.set_status(lead.id, "booked", actor="owner")
        await kit.run_due_jobs()
        await kit.advance(hours=24)  # whatever else would ever come

        detail = await kit.recorded.lead_detail(lead.id)
    (row,) = fake_google.rows_for_lead(lead.id, LEAD_ID)
    assert len(fake_google.rows()) == 2  # the header and the one lead
    assert (column(row, "zip"), column(row, "name"), column(row, "status")) == (
        "78704",
        "Dana",
        "booked",
    )
    assert column(row, "words").endswith('=HYPERLINK("http://evil.example","call me")')
    sheets = [d for d in detail.deliveries if d.sink == "sheets"]
    assert {d.kind for d in sheets} >= {"lead.created", "lead.updated", "lead.status_changed"}
    assert {d.status for d in sheets} == {"delivered"}
    assert [r.method for r in fake_google.writes][:1] == ["POST"]
    assert {r.method for r in fake_google.writes[1:]} == {"PUT"}
    assert len(fake_google.token_requests) == 1


async def test_a_429_is_retried_when_retry_after_says(hub_dir, fake_google):
    limited = ScriptedResponse(
        status=429,
        body={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}},
        headers={"Retry-After": "30"},
    )
    # The token and the header row's read go through; the append is limited.
    fake_google.script(ScriptedResponse(), ScriptedResponse(), limited)
    async with sheets_hub(hub_dir, fake_google) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        assert fake_google.rows() == []
        await kit.advance(seconds=29)
        assert fake_google.rows() == []  # Retry-After: 30 is honoured
        await kit.advance(seconds=1)
        await kit.advance(hours=24)
    assert len(fake_google.rows()) == 2
    assert [r.method for r in fake_google.writes] == ["POST", "POST"]


async def test_a_sheet_not_shared_shows_the_owner_what_to_do(hub_dir, fake_google):
    key = fake_google.service_account_key()
    async with sheets_hub(hub_dir, fake_google, key=key, share=False) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        lead = await kit.recorded.lead()
        detail = await kit.recorded.lead_detail(lead.id)
    (delivery,) = [d for d in detail.deliveries if d.sink == "sheets"]
    assert delivery.status == "failed" and delivery.attempts == 1  # not retried for hours
    assert f"share the sheet with {key['client_email']}" in delivery.error
    # `hub leads show` prints the timeline: the failure is there with its reason.
    (failed,) = [e for e in detail.timeline if e.kind == "notify_failed"]
    assert f"share the sheet with {key['client_email']}" in failed.detail["error"]
