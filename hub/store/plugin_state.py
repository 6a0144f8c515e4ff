"""The table behind ``PluginState``: a durable key-value store per plugin and business.

Every write bumps the row's ``version``; a compare-and-set reads the row, compares its value
and updates it fenced on the version it read, so of two concurrent writers exactly one wins
(and a first write races on the ``(plugin, business, key)`` unique constraint instead).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from hub.models import PluginStateEntry


def _db(value: Any) -> Any:
    """``value`` as the JSON field writes it: Tortoise takes a ``str`` for JSON text already
    encoded (``"Leads!A7"`` was refused, ``"12"`` came back the number 12), so a string is
    encoded here; everything else the field encodes itself."""
    return json.dumps(value) if isinstance(value, str) else value


async def _insert(plugin: str, business: str, key: str, value: Any, now: datetime) -> None:
    row = PluginStateEntry(plugin=plugin, business=business, key=key, updated_at=now)
    # Assigned, not passed: the constructor would decode a str as JSON text.
    row.value = _db(value)
    await row.save()


async def get(plugin: str, business: str, key: str) -> Any:
    row = await PluginStateEntry.get_or_none(plugin=plugin, business=business, key=key)
    return None if row is None else row.value


async def put(plugin: str, business: str, key: str, value: Any, *, now: datetime) -> None:
    """Set ``key`` whatever it held."""
    for _ in range(10):
        row = await PluginStateEntry.get_or_none(plugin=plugin, business=business, key=key)
        if row is None:
            try:
                await _insert(plugin, business, key, value, now)
                return
            except IntegrityError:
                continue  # created meanwhile: update it
        updated = await PluginStateEntry.filter(id=row.id, version=row.version).update(
            value=_db(value), version=row.version + 1, updated_at=now
        )
        if updated:
            return
    raise RuntimeError(f"plugin state {plugin}/{business}/{key} kept changing under a write")


async def compare_and_set(
    plugin: str, business: str, key: str, expected: Any, new: Any, *, now: datetime
) -> bool:
    """Set ``key`` to ``new`` if it holds ``expected`` (``None``: absent); ``True`` if it did.
    A ``new`` of ``None`` deletes the key (``get`` reads ``None`` for absent alike)."""
    row = await PluginStateEntry.get_or_none(plugin=plugin, business=business, key=key)
    if row is None:
        if expected is not None:
            return False
        if new is None:  # absent already, as asked
            return True
        try:
            await _insert(plugin, business, key, new, now)
        except IntegrityError:
            return False
        return True
    if row.value != expected:
        return False
    if new is None:  # the column holds no NULL: absent is no row, as ``get`` reads it
        deleted = await PluginStateEntry.filter(id=row.id, version=row.version).delete()
        return bool(deleted)
    updated = await PluginStateEntry.filter(id=row.id, version=row.version).update(
        value=_db(new), version=row.version + 1, updated_at=now
    )
    return bool(updated)


async def delete(plugin: str, business: str, key: str) -> bool:
    deleted = await PluginStateEntry.filter(plugin=plugin, business=business, key=key).delete()
    return bool(deleted)
