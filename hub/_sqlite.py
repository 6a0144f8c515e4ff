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

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


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


# Tortoise's ConnectionHandler loads ``engine_module.client_class``.
client_class = ImmediateSqliteClient
