"""Multipart inbound texts: Vonage's SMS API delivers a long text as separate webhooks, one per
part, tied by ``concat-ref``; the hub should see one text.

Parts are **persisted**, not kept in memory: Vonage stops re-sending a part once it got a 200,
so a part held only in memory would be lost with the process, and with several ``hub serve``
processes behind a load balancer the parts of one text land on different processes:

- a part is stored once per Vonage ``messageId`` (a re-sent part changes nothing);
- after its write commits, each request reads the group's parts; the one that sees them all
  hands the joined text to the hub (if two both do, the hub's inbox keeps one: the assembled
  text's id is the first part's ``messageId``);
- a durable hub job (``vonage_concat_flush``), queued with the group's first part, passes on
  whatever arrived if a part is still missing after ``concat_wait`` seconds, so a lost part
  delays a reply instead of swallowing it.

They live in the plugin's durable key-value state (``context.state``, per business), not in a
table of the plugin's own: one key per group (``sender``, ``concat-ref``, ``total``) holding its
parts by ``messageId``, written with compare-and-set so two webhooks of one group never lose
each other's part; and an index of the groups with when each last got a part, so groups older
than two days (beyond Vonage's 24-hour re-send window) are forgotten.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from hub import JSON, PluginState

log = logging.getLogger("hub.plugins.vonage")

KEEP_MS = 2 * 24 * 3600 * 1000
#: The most parts a text may claim. The UDH's concat-total is one octet (up to 255), but a phone
#: splits a long text into a handful of parts, and a claim is only as true as its sender: 300,000
#: claimed parts once built a 1.5-million-character text. A claim over this is dropped unread.
MAX_PARTS = 10
#: The most characters one part carries: 153 GSM-7 characters beside the concat header (a
#: Unicode part carries 67), so anything longer is not a part of a real text.
MAX_PART_CHARS = 153
#: So a reassembled text is at most this long, whatever the parts claim.
MAX_TEXT_CHARS = MAX_PARTS * MAX_PART_CHARS
INDEX_KEY = "multipart:index"
#: Attempts at a compare-and-set before giving up (each loss means another webhook wrote).
_TRIES = 50


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
    """The parts of one business's multipart texts, in the plugin's key-value state."""

    def __init__(self, state: PluginState) -> None:
        self.state = state

    async def add(self, part: Part) -> list[Part] | None:
        """Store ``part``; return the group's parts in order once all of them are here.

        A part whose ``messageId`` the group already has (Vonage re-sending it) changes
        nothing, even after the text was passed on."""
        key = _group_key(*part.group)

        def with_part(group: dict[str, Any]) -> dict[str, Any] | None:
            if part.message_id in group["parts"]:
                return None
            group["parts"][part.message_id] = {
                "recipient": part.recipient,
                "part": part.part,
                "body": part.body,
                "raw": part.raw,
                "received_ms": part.received_ms,
                "done_ms": None,
            }
            return group

        group = await self._update(key, with_part)
        await self._index(key, part.received_ms)
        parts = _pending(group, *part.group)
        return parts if len(parts) == part.total else None

    async def pending(self, sender: str, concat_ref: str, total: int) -> list[Part]:
        """The group's parts not yet passed on, one per part number, in order."""
        group = _as_group(await self.state.get(_group_key(sender, concat_ref, total)))
        return _pending(group, sender, concat_ref, total)

    async def finish(self, parts: list[Part], *, now_ms: int) -> None:
        """Mark parts as passed on, and forget old groups."""
        if parts:
            done = {p.message_id for p in parts}

            def marked(group: dict[str, Any]) -> dict[str, Any] | None:
                changed = False
                for message_id, stored in group["parts"].items():
                    if message_id in done and stored["done_ms"] is None:
                        stored["done_ms"] = now_ms
                        changed = True
                return group if changed else None

            await self._update(_group_key(*parts[0].group), marked)
        await self._prune(now_ms - KEEP_MS)

    async def _update(
        self, key: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Apply ``change`` to a copy of the group at ``key`` (``None``: no change) and write it
        if nobody wrote meanwhile, else start again; return the group as written."""
        for _ in range(_TRIES):
            current = await self.state.get(key)
            group = _as_group(copy.deepcopy(current))
            changed = change(group)
            if changed is None:
                return group
            if await self.state.compare_and_set(key, current, cast(JSON, changed)):
                return changed
        raise RuntimeError(f"multipart state {key!r} kept changing; giving up")

    async def _index(self, key: str, received_ms: int) -> None:
        for _ in range(_TRIES):
            current = await self.state.get(INDEX_KEY)
            index = dict(cast(dict[str, int], current or {}))
            if index.get(key, -1) >= received_ms:
                return
            index[key] = received_ms
            if await self.state.compare_and_set(INDEX_KEY, current, cast(JSON, index)):
                return
        raise RuntimeError("the multipart index kept changing; giving up")

    async def _prune(self, before_ms: int) -> None:
        for _ in range(_TRIES):
            current = await self.state.get(INDEX_KEY)
            index = cast(dict[str, int], current or {})
            old = [key for key, last in index.items() if last < before_ms]
            if not old:
                return
            kept = {key: last for key, last in index.items() if last >= before_ms}
            if await self.state.compare_and_set(INDEX_KEY, current, cast(JSON, kept)):
                for key in old:
                    await self.state.delete(key)
                return
        log.warning("pruning old multipart texts lost every race; trying again next time")


def _group_key(sender: str, concat_ref: str, total: int) -> str:
    return f"multipart:{sender}:{total}:{concat_ref}"


def _as_group(value: JSON) -> dict[str, Any]:
    if isinstance(value, dict) and isinstance(value.get("parts"), dict):
        return cast(dict[str, Any], value)
    return {"parts": {}}


def _pending(group: dict[str, Any], sender: str, concat_ref: str, total: int) -> list[Part]:
    parts: dict[int, Part] = {}
    stored = sorted(
        group["parts"].items(), key=lambda item: (item[1]["part"], item[1]["received_ms"])
    )
    for message_id, row in stored:
        number = int(row["part"])
        if row["done_ms"] is None and number not in parts and 1 <= number <= total:
            parts[number] = Part(
                message_id=message_id,
                sender=sender,
                recipient=row["recipient"],
                concat_ref=concat_ref,
                total=total,
                part=number,
                body=row["body"],
                raw=row["raw"],
                received_ms=int(row["received_ms"]),
            )
    return [parts[number] for number in sorted(parts)]


def plausible(total: int, body: str) -> bool:
    """Whether a part claiming ``total`` parts and carrying ``body`` can be part of a real text."""
    return total <= MAX_PARTS and len(body) <= MAX_PART_CHARS


def join(parts: list[Part]) -> str:
    """The text of ``parts``; a missing part shows as ``[…]`` so nobody reads a gap as whole."""
    if not parts:
        return ""
    total = min(parts[0].total, MAX_PARTS)  # the webhook refuses more; stored state may not
    by_number = {p.part: p.body for p in parts}
    pieces = [by_number.get(number, " […] ") for number in range(1, total + 1)]
    return "".join(pieces).strip()[:MAX_TEXT_CHARS]
