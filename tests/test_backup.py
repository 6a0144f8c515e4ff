"""`hub backup`: a consistent SQLite copy while the hub serves; on PostgreSQL, the pg_dump line."""

from __future__ import annotations

import asyncio
import sqlite3

from hub.testing import business, in_process_hub, run_cli, write_config


def cli_config(hub_dir, **top):
    acme = business(sms_sender={"use": "console"}, sinks=[{"use": "log"}])
    return write_config(hub_dir, {"acme": acme}, **top)


async def test_a_backup_taken_while_serving_holds_the_leads(hub_dir):
    async with in_process_hub(write_config(hub_dir, {"acme": business()})) as kit:
        await kit.post_call(id="b1")
        await kit.run_due_jobs()
        path = cli_config(hub_dir)  # the hub still runs on the same database
        result = await asyncio.to_thread(
            run_cli, "backup", str(hub_dir / "copy.sqlite3"), "--config", str(path)
        )
        assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(hub_dir / "copy.sqlite3")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT phone FROM hub_lead").fetchall() == [("+15125550123",)]
    finally:
        copy.close()
    again = run_cli("backup", str(hub_dir / "copy.sqlite3"), "--config", str(path))
    assert again.returncode == 1 and "exists" in again.stderr


def test_on_postgres_it_names_pg_dump_without_the_password(hub_dir):
    path = cli_config(hub_dir, database="postgres://hub:s3cret-pw@db.internal:5433/hubdb")
    result = run_cli("backup", "out.dump", "--config", str(path))
    assert result.returncode == 1
    assert "pg_dump --format=custom --file out.dump 'postgresql://hub@db.internal:5433/hubdb'" in (
        result.stderr
    )
    assert "s3cret" not in result.stderr + result.stdout
