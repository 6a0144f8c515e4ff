"""The database layer: scripts, group commit on SQLite, the IMMEDIATE engine."""

from __future__ import annotations

import asyncio

import pytest

from hub.store.sql import Sql
from hub.testing import make_hub, prepare_database, write_config

INSERT_EVENT = Sql(
    "INSERT INTO hub_inbox (provider, event_key, received_at)"
    " VALUES ({}, {}, CURRENT_TIMESTAMP) RETURNING id"
)


def insert(name: str, fail: bool = False, dialect: str = "sqlite"):
    rows = yield INSERT_EVENT.bind(dialect, "test", name)
    if fail:
        raise ValueError(f"{name} changed its mind")
    return rows[0]["id"]


async def test_scripts_committed_together_fail_alone(hub_dir):
    hub = make_hub(write_config(hub_dir))
    await prepare_database(hub)
    await hub.start(worker=False)
    try:
        results = await asyncio.gather(
            *(hub.db.run(insert(f"event-{i}", fail=i == 3)) for i in range(10)),
            return_exceptions=True,
        )
        assert isinstance(results[3], ValueError)
        assert all(isinstance(r, int) for i, r in enumerate(results) if i != 3)
        rows = await hub.db.fetch("SELECT event_key FROM hub_inbox WHERE provider = 'test'", [])
        assert sorted(row["event_key"] for row in rows) == sorted(
            f"event-{i}" for i in range(10) if i != 3
        )
        # A duplicate key fails only its own script, after the others in its batch.
        again = await asyncio.gather(
            hub.db.run(insert("event-1")), hub.db.run(insert("event-new")), return_exceptions=True
        )
        assert isinstance(again[0], Exception) and isinstance(again[1], int)
    finally:
        await hub.stop()


async def test_reads_and_orm_transactions_interleave_with_scripts(hub_dir):
    from tortoise.transactions import in_transaction

    from hub.models import InboxEvent

    hub = make_hub(write_config(hub_dir))
    await prepare_database(hub)
    await hub.start(worker=False)
    try:

        async def orm():
            async with in_transaction() as tx:
                await InboxEvent.create(provider="orm", event_key="x", using_db=tx)
                await asyncio.sleep(0.01)
                await InboxEvent.create(provider="orm", event_key="y", using_db=tx)

        await asyncio.gather(orm(), *(hub.db.run(insert(f"s-{i}")) for i in range(5)))
        assert await InboxEvent.filter(provider="orm").count() == 2
        assert await InboxEvent.filter(provider="test").count() == 5
    finally:
        await hub.stop()


@pytest.mark.parametrize("dialect", ["postgres"])
async def test_scripts_on_postgres(dialect, hub_dir, postgres_url):
    hub = make_hub(write_config(hub_dir, database=postgres_url))
    await hub.start(worker=False, migrate=True)
    try:
        assert isinstance(await hub.db.run(insert("pg-1", dialect="postgres")), int)
        with pytest.raises(ValueError):
            await hub.db.run(insert("pg-2", fail=True, dialect="postgres"))
        rows = await hub.db.fetch("SELECT event_key FROM hub_inbox WHERE provider = 'test'", [])
        assert [row["event_key"] for row in rows] == ["pg-1"]
    finally:
        await hub.stop()
