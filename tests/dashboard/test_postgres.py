"""The dashboard's reads on PostgreSQL: filters, search, needs attention, live news, numbers."""

from __future__ import annotations

import re

import pytest

from hub.testing import in_process_hub, make_hub

from .helpers import add_users, csrf_of, sign_in, two_businesses


@pytest.mark.postgres
async def test_the_dashboard_reads_on_postgresql(postgres_url, hub_dir):
    config = two_businesses(hub_dir, database=postgres_url)
    migrating = make_hub(config)
    await migrating.start(worker=False, migrate=True)
    await migrating.stop()
    async with in_process_hub(config) as kit:
        await add_users()
        mark = await kit.hub.reads.activity_mark(frozenset({"acme"}))
        await kit.post_call("acme", caller="+15125550123")
        await kit.run_due_jobs()
        await kit.text_in("drain 100% clogged", caller="+15125550123")
        await kit.run_due_jobs()
        await kit.post_call("bravo", caller="+15125550124", to="+15125550200")
        await kit.run_due_jobs()
        changed, _ = await kit.hub.reads.activity_since(frozenset({"acme"}), mark)
        acme = (await kit.recorded.leads(business="acme"))[0].id
        assert changed == [acme]

        await sign_in(kit.client, "owner@acme.example")
        for query, expected in (("q=100%25", [acme]), ("q=clogged", [acme]), ("q=_", []),
                                ("status=new&since=2000-01-01", [acme]), ("attention=1", [])):  # fmt: skip
            page = (await kit.client.get(f"/?{query}")).text
            assert [int(n) for n in re.findall(r'data-lead="(\d+)"', page)] == expected, query
        await kit.client.post(
            f"/leads/{acme}/fields",
            data={"name": "Sam", "csrf_token": await csrf_of(kit.client)},
        )
        assert "Sam" in (await kit.client.get(f"/leads/{acme}")).text
        numbers = (await kit.client.get("/analytics")).text
        assert re.search(r"<b>1</b> calls", numbers) and re.search(r"<b>100%</b> replied", numbers)
        assert (await kit.client.get("/leads.csv")).text.count("\n") == 2
