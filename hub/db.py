"""The database: connection settings, migrations, and dialect details for raw SQL.

SQLite (WAL, ``BEGIN IMMEDIATE`` transactions) is the embedded default; PostgreSQL through
asyncpg is the scale-out path. Migrations run under a lock, so several processes starting
together apply each migration exactly once: a PostgreSQL advisory lock, or an ``fcntl`` lock
on a file beside the SQLite database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor
from tortoise.transactions import in_transaction

from hub._sqlite import ImmediateSqliteClient, Script

T = TypeVar("T")

APP = "hub"
APPS_CONFIG = {
    APP: {"models": ["hub.models"], "default_connection": "default", "migrations": "hub.migrations"}
}
_MIGRATE_LOCK_ID = 0x6875625F6D6967  # "hub_mig"


async def _keep_session(connection: Any) -> None:
    """asyncpg pool ``reset``: nothing to reset (see ``Database.connection_config``)."""


@functools.lru_cache(maxsize=512)
def _placeholders(statement: str) -> str:
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", statement)


class DatabaseError(Exception):
    """The database URL is wrong or the database cannot be reached."""


class Database:
    """One hub's database. ``url`` is ``sqlite:///abs/path``, ``sqlite://relative/path``
    (relative to ``base_dir``), or ``postgres://user:password@host:port/name``."""

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        self.url = url
        self.base_dir = base_dir or Path.cwd()
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "sqlite":
            self.dialect = "sqlite"
        elif scheme in {"postgres", "postgresql", "asyncpg"}:
            self.dialect = "postgres"
        else:
            raise DatabaseError(
                f"unsupported database URL scheme {parts.scheme!r} (use sqlite or postgres)"
            )
        self._connected = False

    # -- settings ---------------------------------------------------------------------------------

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite":
            return None
        raw = self.url.split("://", 1)[1].split("?", 1)[0]
        if raw == ":memory:":
            return None
        path = Path(raw)
        return path if path.is_absolute() else self.base_dir / path

    def connection_config(self) -> dict[str, Any]:
        if self.dialect == "sqlite":
            query = dict(parse_qsl(urlsplit(self.url).query))
            path = self.sqlite_path
            return {
                "engine": "hub._sqlite",
                "credentials": {"file_path": str(path) if path else ":memory:", **query},
            }
        parts = urlsplit(self.url)
        config = expand_db_url(urlunsplit(("postgres", *parts[1:])))
        # asyncpg's pool resets every connection it takes back (RESET ALL, UNLISTEN, unlock
        # advisory locks...), a round trip per query outside a transaction. The hub leaves no
        # session state behind (its one advisory lock is released explicitly), so skip it.
        config["credentials"].setdefault("reset", _keep_session)
        return config

    def tortoise_config(self) -> dict[str, Any]:
        return {
            "connections": {"default": self.connection_config()},
            "apps": APPS_CONFIG,
            "use_tz": True,
            "timezone": "UTC",
        }

    def redacted_url(self) -> str:
        """The URL without its password, for logs and errors."""
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.url)

    # -- lifecycle --------------------------------------------------------------------------------

    async def connect(self) -> None:
        path = self.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Tortoise caches each model's INSERT statement by connection *name*, not dialect: a
        # PostgreSQL hub started after a SQLite one in the same process would get SQLite's.
        EXECUTOR_CACHE.clear()
        try:
            # Global fallback: uvicorn runs the lifespan and the requests in different tasks,
            # and Tortoise's context is a contextvar (storage-and-jobs.md 1.1).
            await Tortoise.init(config=self.tortoise_config(), _enable_global_fallback=True)
            await self.connection.execute_query("SELECT 1")
        except (OSError, ConnectionError) as exc:
            await Tortoise.close_connections()
            raise DatabaseError(f"cannot reach {self.redacted_url()}: {exc}") from exc
        except Exception as exc:
            await Tortoise.close_connections()
            if type(exc).__module__.startswith(("asyncpg", "tortoise")):
                raise DatabaseError(f"cannot open {self.redacted_url()}: {exc}") from exc
            raise
        self._connected = True

    async def close(self) -> None:
        if self._connected:
            await Tortoise.close_connections()
            self._connected = False

    @property
    def connection(self) -> BaseDBAsyncClient:
        return get_connection("default")

    def sql(self, statement: str) -> str:
        """Rewrite ``?`` placeholders for this dialect (asyncpg wants ``$1``, ``$2``...)."""
        return _placeholders(statement) if self.dialect == "postgres" else statement

    def json(self) -> str:
        """The placeholder for a JSON value passed as text."""
        return "CAST(? AS JSONB)" if self.dialect == "postgres" else "?"

    async def fetch(
        self, statement: str, values: list[Any], using: BaseDBAsyncClient | None = None
    ) -> list[dict[str, Any]]:
        """Rows of a raw statement (``?`` placeholders), on ``using`` or the pool.

        The hot paths (a webhook's transaction, sending a text) use raw statements: through
        the ORM each costs several times more CPU, which is the hub's limit on one core.
        """
        rows = await (using or self.connection).execute_query_dict(self.sql(statement), values)
        return list(rows)

    async def run(self, script: Script[T]) -> T:
        """Run a script (a generator of ``(sql, values)`` that is sent each statement's rows)
        as one transaction. On SQLite the whole script runs in one hand-over to the database
        thread (see ``hub._sqlite``); on PostgreSQL statement by statement, pooled."""
        client = self.connection
        if isinstance(client, ImmediateSqliteClient):
            return await client.run_script(script)
        async with in_transaction() as tx:
            return await self.drive(script, tx)

    async def drive(self, script: Script[T], using: BaseDBAsyncClient) -> T:
        """Run a script's statements one by one on ``using`` (an open transaction, say)."""
        try:
            statement, values = next(script)
            while True:
                rows = await using.execute_query_dict(self.sql(statement), values)
                statement, values = script.send(list(rows))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def read(self, statement: str, values: list[Any]) -> list[dict[str, Any]]:
        """Rows of a read that need not wait for other transactions (SQLite: on a reader
        connection of its own; PostgreSQL: any pooled connection)."""
        client = self.connection
        if isinstance(client, ImmediateSqliteClient):
            return await client.read(statement, values)
        return await self.fetch(statement, values)

    async def execute(
        self, statement: str, values: list[Any], using: BaseDBAsyncClient | None = None
    ) -> int:
        """Run a raw statement; how many rows it changed."""
        count, _ = await (using or self.connection).execute_query(self.sql(statement), values)
        return int(count)

    async def ping(self) -> None:
        await self.connection.execute_query("SELECT 1")

    # -- migrations -------------------------------------------------------------------------------

    def _executor(self) -> MigrationExecutor:
        return MigrationExecutor(self.connection, APPS_CONFIG)

    async def pending_migrations(self) -> list[str]:
        steps = await self._executor().plan()
        return [step.migration.name for step in steps if not step.backward]

    async def migrate(self, progress: Callable[[str], object] | None = None) -> list[str]:
        """Apply pending migrations under a cross-process lock; return the names applied."""
        applied: list[str] = []

        def report(event: str, app_label: str, name: str) -> None:
            if event == "apply_done":
                applied.append(name)
                if progress is not None:
                    progress(f"applied {app_label}.{name}")

        async with self._migration_lock():
            await self._executor().migrate(progress=report)
        return applied

    @contextlib.asynccontextmanager
    async def _migration_lock(self) -> AsyncIterator[None]:
        if self.dialect == "postgres":
            # A session lock on a connection of its own, so the migration's transactions run
            # on the pool while every other process waits here.
            async with self.connection.acquire_connection() as lock_connection:
                await lock_connection.execute("SELECT pg_advisory_lock($1)", _MIGRATE_LOCK_ID)
                try:
                    yield
                finally:
                    await lock_connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATE_LOCK_ID)
            return
        path = self.sqlite_path
        if path is None:
            yield
            return
        lock_path = path.with_name(path.name + ".migrate-lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
