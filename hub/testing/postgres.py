"""Throwaway PostgreSQL databases for the tests that run on the scale-out path."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

#: The server throwaway test databases are made on.
POSTGRES_SERVER = os.environ.get("HUB_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres", timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database on ``$HUB_TEST_POSTGRES`` for the block, dropped after; the
    test is skipped, saying why, when no server answers. Call it outside the event loop."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError) as exc:
        pytest.skip(
            f"no PostgreSQL server reachable at {POSTGRES_SERVER} ({exc}); set HUB_TEST_POSTGRES"
        )
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
