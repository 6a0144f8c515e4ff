"""The database: connection settings, migrations, and the unit of work.

Every write is a unit of work: a script (``hub.store.sql.Script``) run by ``Database.run`` as one
transaction, or ``async with db.transaction() as uow`` for the rare paths that use the ORM (and
may run scripts too, ``await uow.run(script)``). Either way the jobs a unit of work inserted
(``JobInsert`` statements) are handed to this process's worker by the unit of work itself once it
has committed, and dropped if it rolled back.

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
from collections.abc import AsyncIterator, Callable, Sequence
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

from hub.store._sqlite import ImmediateSqliteClient
from hub.store.sql import Handover, JobInsert, Script, Statement
from hub.store.step import Step

T = TypeVar("T")

APP = "hub"
APPS_CONFIG = {
    APP: {"models": ["hub.models"], "default_connection": "default", "migrations": "hub.migrations"}
}
_MIGRATE_LOCK_ID = 0x6875625F6D6967  # "hub_mig"


async def _keep_session(connection: Any) -> None:
    """asyncpg pool ``reset``: nothing to reset (see ``Database.connection_config``)."""


@functools.lru_cache(maxsize=256)
def _qmarks_to_dialect(statement: str, dialect: str) -> str:
    from hub.store.sql import Sql

    return Sql(statement.replace("{", "{{").replace("}", "}}").replace("?", "{}")).text(dialect)


def _collecting(script: Script[T], handovers: list[Handover]) -> Script[T]:
    """``script``, noting the jobs it inserts (``JobInsert``) and their new ids."""
    try:
        statement: Statement = next(script)
        while True:
            rows = yield statement
            if type(statement) is JobInsert and rows:
                handover = statement.handover
                handover.job_id = int(rows[0]["id"])
                if handover.claimed is not None:
                    handover.claimed.id = handover.job_id
                handovers.append(handover)
            statement = script.send(rows)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


#: What a hub does with the jobs a unit of work committed (hands them to its worker).
OnCommit = Callable[[Sequence[Handover]], None]


class UnitOfWork:
    """One open transaction: ``connection`` for the ORM, ``run`` for scripts. Jobs inserted by
    its scripts are handed over when it commits (see ``Database.transaction``)."""

    def __init__(self, db: Database, connection: BaseDBAsyncClient) -> None:
        self.db = db
        self.connection = connection
        self.dialect = db.dialect
        self.handovers: list[Handover] = []

    async def run(self, script: Script[T] | Step[T]) -> T:
        """Run a script (or a ``Step``) inside this unit of work."""
        return await self.db.drive(_collecting(iter(script), self.handovers), self.connection)


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
        #: Set by the hub: where committed jobs go (its worker). ``None``: nowhere.
        self.on_commit: OnCommit | None = None

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
                "engine": "hub.store._sqlite",
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
        """A statement written with ``?`` placeholders, for this dialect. For code outside the
        store that has not moved to ``hub.store.sql.Sql`` yet; the store does not use it."""
        return statement if self.dialect == "sqlite" else _qmarks_to_dialect(statement, "postgres")

    async def fetch(
        self,
        statement: Statement | str,
        values: list[Any] | None = None,
        using: BaseDBAsyncClient | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of one statement (in this dialect: see ``Sql.bind``), on ``using`` or the pool."""
        if isinstance(statement, str):
            statement = (statement, values or [])
        rows = await (using or self.connection).execute_query_dict(*statement)
        return list(rows)

    async def run(self, script: Script[T] | Step[T]) -> T:
        """Run a script (a generator of statements that is sent each statement's rows) as one
        unit of work. On SQLite the whole script runs in one hand-over to the database thread
        (see ``hub.store._sqlite``, which also commits concurrent scripts together); on
        PostgreSQL statement by statement, pooled. The jobs it inserted go to ``on_commit``."""
        handovers: list[Handover] = []
        collecting = _collecting(iter(script), handovers)
        client = self.connection
        if isinstance(client, ImmediateSqliteClient):
            result = await client.run_script(collecting)
        else:
            async with in_transaction() as tx:
                result = await self.drive(collecting, tx)
        if handovers and self.on_commit is not None:
            self.on_commit(handovers)
        return result

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work on the ORM's transaction; its jobs are handed over after the commit."""
        async with in_transaction() as tx:
            uow = UnitOfWork(self, tx)
            yield uow
        if uow.handovers and self.on_commit is not None:
            self.on_commit(uow.handovers)

    async def drive(self, script: Script[T], using: BaseDBAsyncClient) -> T:
        """Run a script's statements one by one on ``using`` (an open transaction)."""
        try:
            statement = next(script)
            while True:
                rows = await using.execute_query_dict(*statement)
                statement = script.send(list(rows))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def read(self, statement: Statement) -> list[dict[str, Any]]:
        """Rows of a read that need not wait for other transactions (SQLite: on a reader
        connection of its own; PostgreSQL: any pooled connection)."""
        client = self.connection
        if isinstance(client, ImmediateSqliteClient):
            return await client.read(*statement)
        return await self.fetch(statement)

    async def execute(self, statement: Statement, using: BaseDBAsyncClient | None = None) -> int:
        """Run one statement; how many rows it changed."""
        count, _ = await (using or self.connection).execute_query(*statement)
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
