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

import sqlite3
from collections.abc import Generator
from typing import Any, TypeVar

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

T = TypeVar("T")
#: A transaction written as a generator: it yields ``(sql, values)`` and is sent the rows.
Script = Generator[tuple[str, list[Any]], list[dict[str, Any]], T]


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)

    async def run_script(self, script: Script[T], transaction: bool) -> T:
        """Run every statement of ``script`` in aiosqlite's thread, in one hand-over.

        Each statement through the ORM or ``execute_query`` is a round trip between the event
        loop and that thread, and a transaction holds the connection's lock across all of them;
        on a busy hub those waits, not SQLite, were the limit. One hand-over per transaction
        cuts the lock's hold time to the statements' own. (Uses aiosqlite's ``_execute`` and
        ``_conn``: aiosqlite comes pinned with tortoise-orm, and tests/test_db.py covers it.)
        """
        async with self._lock:
            await self.create_connection(with_db=True)
            connection = self._connection
            assert connection is not None
            result: T = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, script, transaction
            )
            return result


def _run(connection: sqlite3.Connection, script: Script[T], transaction: bool) -> T:
    if transaction:
        connection.execute("BEGIN IMMEDIATE")
    try:
        statement = next(script)
        while True:
            rows = [dict(row) for row in connection.execute(*statement).fetchall()]
            statement = script.send(rows)
    except StopIteration as done:
        if transaction:
            connection.execute("COMMIT")
        return done.value  # type: ignore[no-any-return]
    except BaseException:
        if transaction:
            connection.execute("ROLLBACK")
        raise


# Tortoise's ConnectionHandler loads ``engine_module.client_class``.
client_class = ImmediateSqliteClient
