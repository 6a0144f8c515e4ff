"""Tortoise SQLite engine whose transactions start with ``BEGIN IMMEDIATE``.

Tortoise opens transactions with a plain (deferred) ``BEGIN``. When a second process (a
``hub worker`` beside ``hub serve``) writes the same file, a deferred transaction that reads and
then writes must upgrade its lock mid-way, and SQLite answers "database is locked" at once,
without waiting on the busy timeout. Taking the write lock up front makes the busy timeout apply
(the fix Rails made its default, rails/rails#50371).

This subclasses Tortoise internals, which is why ``tortoise-orm`` is pinned; ``tests/test_db.py``
covers it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, TypeVar

import aiosqlite
from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

from hub.store.sql import Script

T = TypeVar("T")


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[tuple[Script[Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._reader: aiosqlite.Connection | None = None
        self._reader_opening = asyncio.Lock()

    async def read(self, statement: str, values: list[Any]) -> list[dict[str, Any]]:
        """A read on a connection of its own. In WAL mode readers never wait for the writer,
        so the read before a text goes out does not queue behind other webhooks' commits.
        It sees what is committed; an in-memory database has no second connection to give."""
        if self.filename == ":memory:":
            return list(await self.execute_query_dict(statement, values))
        if self._reader is None:
            # Concurrent jobs read at once: one opens the reader, the others wait for it (a
            # reader opened twice would leave one connection, and its thread, never closed).
            async with self._reader_opening:
                if self._reader is None:
                    reader = await aiosqlite.connect(self.filename, isolation_level=None)
                    reader.row_factory = sqlite3.Row
                    await reader.execute("PRAGMA query_only = ON")
                    self._reader = reader
        return [dict(row) for row in await self._reader.execute_fetchall(statement, values)]

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        await super().close()

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)

    async def run_script(self, script: Script[T]) -> T:
        """Run every statement of ``script`` in aiosqlite's thread, in one hand-over.

        Each statement through the ORM or ``execute_query`` is a round trip between the event
        loop and that thread, and a transaction holds the connection's lock across all of them;
        on a busy hub those waits were the limit. And each commit is an fsync, which was the
        next one: so scripts that arrive while a commit is under way are committed together, in
        one transaction, each inside a savepoint of its own (a failing script rolls back alone).
        A script's result is returned only once its commit is on disk (group commit).

        Uses aiosqlite's ``_execute`` and ``_conn``; aiosqlite comes pinned with tortoise-orm.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((script, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        return await future

    async def _open(self) -> Any:
        await self.create_connection(with_db=True)
        assert self._connection is not None
        return self._connection

    async def _commit_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:_BATCH], self._pending[_BATCH:]
            try:
                async with self._lock:
                    connection = await self._open()
                    outcomes = await connection._execute(
                        _run_batch, connection._conn, [script for script, _ in batch]
                    )
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # its caller went away; the work is committed all the same
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


#: Scripts committed together at most: bounds how long one commit keeps the others waiting.
_BATCH = 64


def _drive(connection: sqlite3.Connection, script: Script[T]) -> T:
    try:
        statement = next(script)
        while True:
            rows = [dict(row) for row in connection.execute(*statement).fetchall()]
            statement = script.send(rows)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _run_batch(
    connection: sqlite3.Connection, scripts: list[Script[Any]]
) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    connection.execute("BEGIN IMMEDIATE")
    try:
        for script in scripts:
            connection.execute("SAVEPOINT script")
            try:
                outcomes.append((True, _drive(connection, script)))
            except Exception as exc:
                connection.execute("ROLLBACK TO script")
                outcomes.append((False, exc))
            connection.execute("RELEASE script")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return outcomes


# Tortoise's ConnectionHandler loads ``engine_module.client_class``.
client_class = ImmediateSqliteClient
