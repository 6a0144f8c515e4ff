"""The benchmark's baseline: the least a missed-call webhook server can do, on the same machine.

A bare Starlette app (uvicorn, one worker) that takes the same two Twilio webhooks as the hub:
``/voice`` parses the form and answers with a fixed ``<Dial>``; ``/dial`` parses the form and
writes one call row plus one job row, in one transaction, to SQLite (WAL, the pragmas Tortoise
gives the hub) or PostgreSQL. No signature check, no deduplication, no rules, no text sent.

    python bench/twilio_baseline.py --port 8791 --database sqlite:///tmp/base.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DIAL = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="/dial" answerOnBridge="true"'
    ' timeout="20"><Number>+15125550199</Number></Dial></Response>'
)
MISSED = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, we missed your call.</Say>'
    "<Hangup /></Response>"
)
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS base_call (id {pk}, call_sid VARCHAR(64) UNIQUE, caller VARCHAR(32),"
    " called VARCHAR(32), status VARCHAR(16), data TEXT, created_at BIGINT)",
    "CREATE TABLE IF NOT EXISTS base_job (id {pk}, kind VARCHAR(32), payload TEXT,"
    " state VARCHAR(16), run_at_ms BIGINT)",
]


class SqliteStore:
    def __init__(self, url: str) -> None:
        # sqlite:///path?pragma=value, as the hub reads it: the query's pairs become pragmas.
        path, _, query = url.removeprefix("sqlite://").partition("?")
        self.path = path
        self.pragmas = {"journal_mode": "WAL", "journal_size_limit": "16384", "foreign_keys": "ON"}
        self.pragmas.update(parse_qsl(query))
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        self.db = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma, value in self.pragmas.items():
            await self.db.execute(f"PRAGMA {pragma}={value}")
        for statement in SCHEMA:
            await self.db.execute(statement.format(pk="INTEGER PRIMARY KEY AUTOINCREMENT"))

    async def write(self, form: dict[str, Any]) -> None:
        now = int(time.time() * 1000)
        async with self.lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self.db.execute(
                    "INSERT INTO base_call (call_sid, caller, called, status, data, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        form["CallSid"],
                        form.get("From"),
                        form.get("To"),
                        form.get("DialCallStatus"),
                        json.dumps(form),
                        now,
                    ),
                )
                await self.db.execute(
                    "INSERT INTO base_job (kind, payload, state, run_at_ms) VALUES (?, ?, ?, ?)",
                    ("text_back", json.dumps({"call_id": cursor.lastrowid}), "available", now),
                )
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self.db.close()


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=10)
        async with self.pool.acquire() as connection:
            for statement in SCHEMA:
                await connection.execute(statement.format(pk="BIGSERIAL PRIMARY KEY"))

    async def write(self, form: dict[str, Any]) -> None:
        now = int(time.time() * 1000)
        async with self.pool.acquire() as connection, connection.transaction():
            call_id = await connection.fetchval(
                "INSERT INTO base_call (call_sid, caller, called, status, data, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                form["CallSid"],
                form.get("From"),
                form.get("To"),
                form.get("DialCallStatus"),
                json.dumps(form),
                now,
            )
            await connection.execute(
                "INSERT INTO base_job (kind, payload, state, run_at_ms) VALUES ($1, $2, $3, $4)",
                "text_back",
                json.dumps({"call_id": call_id}),
                "available",
                now,
            )

    async def close(self) -> None:
        await self.pool.close()


def create_app(database: str) -> Starlette:
    store: SqliteStore | PostgresStore = (
        SqliteStore(database) if database.startswith("sqlite://") else PostgresStore(database)
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        yield
        await store.close()

    async def voice(request: Request) -> Response:
        await request.form()
        return Response(DIAL, media_type="application/xml")

    async def dial(request: Request) -> Response:
        form = await request.form()
        await store.write({key: value for key, value in form.items() if isinstance(value, str)})
        return Response(MISSED, media_type="application/xml")

    async def healthz(request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/voice", voice, methods=["POST"]),
            Route("/dial", dial, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="sqlite:///path or postgres://...")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.database),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
