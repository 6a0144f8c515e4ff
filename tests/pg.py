"""A throwaway PostgreSQL database per test, on the server at $HUB_TEST_POSTGRES."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

SERVER = os.environ.get("HUB_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{SERVER}/postgres", timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database() -> str:
    """Create a fresh database and return its URL, or skip the test when no server answers."""
    pytest.importorskip("asyncpg")
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as exc:
        pytest.skip(f"no PostgreSQL server reachable at {SERVER} ({exc}); set HUB_TEST_POSTGRES")
    return f"{SERVER}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_database() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)
