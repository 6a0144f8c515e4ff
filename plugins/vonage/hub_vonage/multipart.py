"""Multipart inbound texts: Vonage's SMS API delivers a long text as separate webhooks, one per
part, tied by ``concat-ref``; the hub should see one text.

Parts are **persisted**, not kept in memory: Vonage stops re-sending a part once it got a 200,
so a part held only in memory would be lost with the process, and with several ``hub serve``
processes behind a load balancer the parts of one text land on different processes. Each part
is a row of ``vonage_sms_part`` in the hub's own database (SQLite or PostgreSQL alike):

- a part is inserted once per Vonage ``messageId`` (a re-sent part changes nothing);
- after its insert commits, each request reads the group's parts; the one that sees them all
  hands the joined text to the hub (if two both do, the hub's inbox keeps one: the assembled
  text's id is the first part's ``messageId``);
- a durable hub job (``vonage_concat_flush``), queued with the group's first part, passes on
  whatever arrived if a part is still missing after ``concat_wait`` seconds, so a lost part
  delays a reply instead of swallowing it.

The core has no migrations for plugin tables, so this one is created with ``CREATE TABLE IF
NOT EXISTS`` when a hub with a Vonage sender starts; it is the plugin's alone (no foreign keys),
and rows are pruned after two days, beyond Vonage's 24-hour re-send window.
"""

from __future__ import annotations

import json
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.store.db import Database

log = logging.getLogger("hub.plugins.vonage")

TABLE = "vonage_sms_part"
KEEP_MS = 2 * 24 * 3600 * 1000

_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        business VARCHAR(64) NOT NULL,
        message_id VARCHAR(128) NOT NULL,
        sender VARCHAR(64) NOT NULL,
        recipient VARCHAR(64) NOT NULL,
        concat_ref VARCHAR(64) NOT NULL,
        total INTEGER NOT NULL,
        part INTEGER NOT NULL,
        body TEXT NOT NULL,
        raw TEXT NOT NULL,
        received_ms BIGINT NOT NULL,
        done_ms BIGINT,
        PRIMARY KEY (business, message_id)
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_group ON {TABLE} (business, sender, concat_ref, total)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_received ON {TABLE} (received_ms)",
]

#: Databases whose table is known to exist in this process.
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class Part:
    message_id: str
    sender: str
    recipient: str
    concat_ref: str
    total: int
    part: int
    body: str
    raw: dict[str, Any]
    received_ms: int

    @property
    def group(self) -> tuple[str, str, int]:
        return self.sender, self.concat_ref, self.total


class PartStore:
    """The parts of one business's multipart texts."""

    def __init__(self, db: Database, business: str) -> None:
        self.db = db
        self.business = business

    async def ensure_table(self) -> None:
        if self.db in _ready:
            return
        for statement in _DDL:
            try:
                await self.db.connection.execute_script(statement)
            except Exception:
                # Two processes creating it at the same moment on PostgreSQL can collide on
                # the catalog; the loser finds the table there.
                if not await self._table_exists():
                    raise
        _ready.add(self.db)

    async def _table_exists(self) -> bool:
        try:
            await self.db.connection.execute_query(f"SELECT 1 FROM {TABLE} WHERE 1 = 0")
        except Exception:
            return False
        return True

    async def add(self, part: Part) -> list[Part] | None:
        """Store ``part``; return the group's parts in order once all of them are here."""
        await self.ensure_table()
        await self.db.connection.execute_query(
            self.db.sql(
                f"INSERT INTO {TABLE} (business, message_id, sender, recipient, concat_ref, total,"
                " part,"
                " body, raw, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (business, message_id) DO NOTHING"
            ),
            [
                self.business,
                part.message_id,
                part.sender,
                part.recipient,
                part.concat_ref,
                part.total,
                part.part,
                part.body,
                json.dumps(part.raw),
                part.received_ms,
            ],
        )
        parts = await self.pending(*part.group)
        return parts if len(parts) == part.total else None

    async def pending(self, sender: str, concat_ref: str, total: int) -> list[Part]:
        """The group's parts not yet passed on, one per part number, in order."""
        await self.ensure_table()
        rows = await self.db.connection.execute_query_dict(
            self.db.sql(
                "SELECT message_id, sender, recipient, concat_ref, total, part, body, raw,"
                " received_ms"
                f" FROM {TABLE} WHERE business = ? AND sender = ? AND concat_ref = ? AND total = ?"
                " AND done_ms IS NULL ORDER BY part, received_ms"
            ),
            [self.business, sender, concat_ref, total],
        )
        parts: dict[int, Part] = {}
        for row in rows:
            number = int(row["part"])
            if number not in parts and 1 <= number <= total:
                parts[number] = Part(
                    message_id=row["message_id"],
                    sender=row["sender"],
                    recipient=row["recipient"],
                    concat_ref=row["concat_ref"],
                    total=int(row["total"]),
                    part=number,
                    body=row["body"],
                    raw=json.loads(row["raw"]),
                    received_ms=int(row["received_ms"]),
                )
        return [parts[number] for number in sorted(parts)]

    async def finish(self, parts: list[Part], *, now_ms: int) -> None:
        """Mark parts as passed on, and forget old ones."""
        if parts:
            marks = ", ".join("?" * len(parts))
            await self.db.connection.execute_query(
                self.db.sql(
                    f"UPDATE {TABLE} SET done_ms = ? WHERE business = ? AND message_id IN ({marks})"
                ),
                [now_ms, self.business, *(p.message_id for p in parts)],
            )
        await self.db.connection.execute_query(
            self.db.sql(f"DELETE FROM {TABLE} WHERE received_ms < ?"),
            [now_ms - KEEP_MS],
        )


def join(parts: list[Part]) -> str:
    """The text of ``parts``; a missing part shows as ``[…]`` so nobody reads a gap as whole."""
    if not parts:
        return ""
    total = parts[0].total
    by_number = {p.part: p.body for p in parts}
    pieces = [by_number.get(number, " […] ") for number in range(1, total + 1)]
    return "".join(pieces).strip()
