"""The inbox, a lead, the CSV and the numbers, over plain HTTP against an in-process hub."""

from __future__ import annotations

import csv
import io
import re

import pytest

from hub.testing import in_process_hub

from .helpers import add_users, csrf_of, sign_in, two_businesses

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def kit(hub_dir):
    async with in_process_hub(two_businesses(hub_dir)) as kit:
        await add_users()
        yield kit


async def a_lead(kit, caller="+15125550123", business="acme", reply=None) -> int:
    to = "+15125550100" if business == "acme" else "+15125550200"
    await kit.post_call(business, caller=caller, to=to)
    await kit.run_due_jobs()
    if reply:
        await kit.text_in(reply, caller=caller, to=to, business=business)
        await kit.run_due_jobs()
    leads = [lead for lead in await kit.recorded.leads() if lead.caller == caller]
    return leads[0].id


def lead_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-lead="(\d+)"', page)]


async def test_the_inbox_shows_what_the_user_may_see(kit):
    acme = await a_lead(kit, "+15125550123", "acme", "Need drain cleaning in 78704, Sam")
    await kit.advance(minutes=1)
    bravo = await a_lead(kit, "+15125550124", "bravo")
    await sign_in(kit.client, "admin@example.com")
    page = (await kit.client.get("/")).text
    assert lead_ids(page) == [bravo, acme]  # newest activity first
    assert "78704" in page

    await kit.client.post("/logout", data={"csrf_token": await csrf_of(kit.client)})
    await sign_in(kit.client, "owner@acme.example")
    assert lead_ids((await kit.client.get("/")).text) == [acme]


async def test_filters_are_query_parameters(kit):
    drain = await a_lead(kit, "+15125550123", "acme", "drain clogged, 78704")
    await a_lead(kit, "+15125550124", "acme", "no hot water 78701")
    other = await a_lead(kit, "+15125550125", "bravo")
    await sign_in(kit.client, "admin@example.com")

    async def ids(query: str) -> list[int]:
        response = await kit.client.get(f"/?{query}")
        assert response.status_code == 200, query
        return lead_ids(response.text)

    assert await ids("business=bravo") == [other]
    assert await ids("q=clogged") == [drain]  # the customer's own words
    assert await ids("q=5550123") == [drain]
    assert await ids("q=%25") == []  # a wildcard is a character like any other
    assert await ids("status=booked") == []
    assert len(await ids("status=new")) == 3
    assert len(await ids("since=2000-01-01&until=2999-01-01")) == 3
    assert await ids("until=2000-01-01") == []
    assert (await kit.client.get("/?status=nonsense")).status_code == 400
    assert (await kit.client.get("/?since=yesterday")).status_code == 400
    assert (await kit.client.get("/?cursor=garbage")).status_code == 400


async def test_needs_attention_is_new_and_older_than_the_reminder_time(kit):
    lead = await a_lead(kit, "+15125550123", "acme")
    await sign_in(kit.client, "admin@example.com")
    assert lead_ids((await kit.client.get("/?attention=1")).text) == []
    await kit.advance(hours=1, minutes=5)  # past remind_owner_after_hours (1 hour)
    assert lead_ids((await kit.client.get("/?attention=1")).text) == [lead]
    await kit.client.post(
        f"/leads/{lead}/status",
        data={"status": "contacted", "csrf_token": await csrf_of(kit.client)},
    )
    assert lead_ids((await kit.client.get("/?attention=1")).text) == []


async def test_another_business_is_404_by_id_and_by_guessing(kit):
    bravo = await a_lead(kit, "+15125550124", "bravo")
    await sign_in(kit.client, "owner@acme.example")
    token = await csrf_of(kit.client)
    for path in (f"/leads/{bravo}", "/leads/99999", "/leads/abc", "/?business=bravo",
                 "/leads.csv?business=bravo", f"/events?lead={bravo}",
                 "/analytics?business=bravo"):  # fmt: skip
        assert (await kit.client.get(path)).status_code == 404, path
    for action, data in (("status", {"status": "closed"}), ("fields", {"name": "x"}),
                         ("notes", {"text": "x"}), ("reply", {"text": "x"})):  # fmt: skip
        response = await kit.client.post(
            f"/leads/{bravo}/{action}", data={**data, "csrf_token": token}
        )
        assert response.status_code == 404, action
    assert (await kit.recorded.leads())[0].status == "new"
    csv_text = (await kit.client.get("/leads.csv")).text
    assert "+15125550124" not in csv_text


async def test_a_lead_page_and_its_edits_reach_the_sinks(kit):
    lead = await a_lead(kit, "+15125550123", "acme", "drain clogged")
    await sign_in(kit.client, "owner@acme.example")
    page = await kit.client.get(f"/leads/{lead}")
    assert page.status_code == 200
    assert "drain clogged" in page.text
    token = await csrf_of(kit.client, f"/leads/{lead}")
    kit.outbox.events.clear()

    await kit.client.post(
        f"/leads/{lead}/fields",
        data={"name": "Sam Lee", "zip": "78704", "service": "", "urgency": "", "csrf_token": token},
    )
    await kit.client.post(f"/leads/{lead}/status", data={"status": "booked", "csrf_token": token})
    await kit.client.post(
        f"/leads/{lead}/notes", data={"text": "Booked Tue 9am", "csrf_token": token}
    )
    await kit.run_due_jobs()
    kinds = [event.kind for event in kit.outbox.events]
    assert "lead.updated" in kinds and "lead.status_changed" in kinds
    updated = next(e for e in kit.outbox.events if e.kind == "lead.updated")
    assert updated.actor == "user:owner@acme.example"
    assert (updated.changes["name"].before, updated.changes["name"].after) == (None, "Sam Lee")
    page = (await kit.client.get(f"/leads/{lead}")).text
    assert "user:owner@acme.example" in page and "Booked Tue 9am" in page
    assert "status new → booked" in page
    assert (await kit.recorded.leads())[0].status == "booked"


async def test_a_reply_goes_through_the_send_path(kit):
    lead = await a_lead(kit, "+15125550123", "acme", "hello")
    await sign_in(kit.client, "owner@acme.example")
    token = await csrf_of(kit.client, f"/leads/{lead}")
    sent = len(kit.outbox.texts)
    response = await kit.client.post(
        f"/leads/{lead}/reply", data={"text": "We can come at 3pm", "csrf_token": token}
    )
    assert response.status_code == 303
    await kit.run_due_jobs()
    assert [t.body for t in kit.outbox.texts[sent:]] == ["We can come at 3pm"]
    assert kit.outbox.texts[-1].to == "+15125550123"


async def test_a_refused_reply_says_why(kit):
    lead = await a_lead(kit, "+15125550123", "acme")
    await kit.text_in("STOP", caller="+15125550123")
    await kit.run_due_jobs()
    await sign_in(kit.client, "owner@acme.example")
    token = await csrf_of(kit.client, f"/leads/{lead}")
    sent = len(kit.outbox.texts)
    await kit.client.post(f"/leads/{lead}/reply", data={"text": "hi?", "csrf_token": token})
    await kit.run_due_jobs()
    assert len(kit.outbox.texts) == sent
    page = (await kit.client.get(f"/leads/{lead}")).text
    assert "Not sent: they opted out of texts." in page


async def test_a_reply_refused_at_send_time_shows_on_the_lead(kit):
    lead = await a_lead(kit, "+15125550123", "acme")
    await sign_in(kit.client, "owner@acme.example")
    token = await csrf_of(kit.client, f"/leads/{lead}")
    await kit.client.post(f"/leads/{lead}/reply", data={"text": "hi?", "csrf_token": token})
    # They opt out after the reply was queued and before it went: the send path refuses it.
    await kit.text_in("STOP", caller="+15125550123")
    sent = len(kit.outbox.texts)
    await kit.run_due_jobs()
    assert [t.body for t in kit.outbox.texts[sent:]] != ["hi?"]
    page = (await kit.client.get(f"/leads/{lead}")).text
    assert "Last text not sent: they opted out of texts" in page


async def test_customer_words_are_text_not_html(kit):
    lead = await a_lead(kit, "+15125550123", "acme", XSS)
    await sign_in(kit.client, "owner@acme.example")
    token = await csrf_of(kit.client, f"/leads/{lead}")
    await kit.client.post(f"/leads/{lead}/fields", data={"name": XSS, "csrf_token": token})
    await kit.client.post(f"/leads/{lead}/notes", data={"text": XSS, "csrf_token": token})
    for path in ("/", f"/leads/{lead}"):
        page = (await kit.client.get(path)).text
        assert XSS not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_the_csv_holds_what_the_filtered_inbox_shows(kit):
    drain = await a_lead(kit, "+15125550123", "acme", "drain clogged")
    await a_lead(kit, "+15125550124", "acme", "water heater")
    await a_lead(kit, "+15125550125", "bravo")
    await sign_in(kit.client, "admin@example.com")
    await kit.client.post(
        f"/leads/{drain}/fields",
        data={"name": '=HYPERLINK("http://evil")', "csrf_token": await csrf_of(kit.client)},
    )
    query = "business=acme&q=drain"
    shown = lead_ids((await kit.client.get(f"/?{query}")).text)
    response = await kit.client.get(f"/leads.csv?{query}")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["id"]) for row in rows] == shown and len(shown) == 1
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["caller"] == "'+15125550123"


async def test_numbers(kit):
    await a_lead(kit, "+15125550123", "acme", "drain")
    await a_lead(kit, "+15125550124", "bravo")
    await kit.post_call("acme", caller="+15125550126", outcome="answered")
    await sign_in(kit.client, "admin@example.com")
    page = await kit.client.get("/analytics")
    assert page.status_code == 200
    text = page.text
    assert "<svg" in text and "<table" in text
    assert re.search(r"<b>3</b> calls", text) and re.search(r"<b>2</b> missed", text)
    assert re.search(r"<b>2</b> text-backs", text) and re.search(r"<b>50%</b> replied", text)
    await kit.client.post("/logout", data={"csrf_token": await csrf_of(kit.client)})
    await sign_in(kit.client, "staff@bravo.example")
    text = (await kit.client.get("/analytics")).text
    assert re.search(r"<b>1</b> calls", text)
    assert (await kit.client.get("/analytics?days=1000")).status_code == 400


async def test_numbers_by_source(hub_dir):
    from hub.testing import business, write_config

    from .helpers import SECRET_KEY

    numbers = [{"number": "+15125550100", "source": "Google Ads"}, "+15125550101"]
    config = write_config(
        hub_dir, {"acme": business("Acme", numbers=numbers)}, secret_key=SECRET_KEY
    )
    async with in_process_hub(config) as kit:
        await add_users()
        for caller, to in (("+15125550123", "+15125550100"), ("+15125550124", "+15125550101")):
            await kit.post_call("acme", caller=caller, to=to)
        await kit.run_due_jobs()
        await sign_in(kit.client, "admin@example.com")
        text = (await kit.client.get("/analytics")).text
        table = text.split("Leads by source", 1)[1].split("</table>", 1)[0]
        rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", table)
        assert sorted(rows) == [("Google Ads", "1", "0"), ("no source", "1", "0")]
