"""The part store on the plugin's key-value state: what two processes share, what a re-sent part
and a concurrent one do, and when old groups are forgotten."""

from __future__ import annotations

import asyncio
import copy
import json

from hub_vonage.multipart import INDEX_KEY, KEEP_MS, MAX_TEXT_CHARS, Part, PartStore, join

from hub import PluginState


class SharedState:
    """The durable state two hub processes share, with a pause in every read so concurrent
    writers interleave (a stand-in for the database behind ``PluginState``)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], str] = {}

    async def state_get(self, plugin, business, key):
        await asyncio.sleep(0)
        value = self.values.get((plugin, business, key))
        return None if value is None else json.loads(value)

    async def state_set(self, plugin, business, key, value):
        self.values[(plugin, business, key)] = json.dumps(value)

    async def state_compare_and_set(self, plugin, business, key, expected, new):
        await asyncio.sleep(0)
        if await self.state_get(plugin, business, key) != expected:
            return False
        self.values[(plugin, business, key)] = json.dumps(copy.deepcopy(new))
        return True

    async def state_delete(self, plugin, business, key):
        return self.values.pop((plugin, business, key), None) is not None


def part(number: int, *, total: int = 3, ref: str = "7", at: int = 1_000) -> Part:
    return Part(
        message_id=f"msg-{ref}-{number}",
        sender="+15125550123",
        recipient="+15125550100",
        concat_ref=ref,
        total=total,
        part=number,
        body=f"<{number}>",
        raw={"concat-part": str(number)},
        received_ms=at,
    )


def store(shared: SharedState) -> PartStore:
    return PartStore(PluginState(shared, "vonage", "acme"))  # type: ignore[arg-type]


async def test_parts_received_by_two_processes_make_one_text():
    shared = SharedState()
    first, second = store(shared), store(shared)
    assert await first.add(part(3)) is None
    assert await second.add(part(1)) is None
    complete = await first.add(part(2))
    assert [p.part for p in complete or []] == [1, 2, 3]
    assert complete is not None and complete[0].raw == {"concat-part": "1"}


async def test_a_re_sent_part_changes_nothing_even_after_the_text_was_passed_on():
    shared = SharedState()
    parts = store(shared)
    for number in (1, 2):
        await parts.add(part(number))
    before = dict(shared.values)
    assert await parts.add(part(1)) is None
    assert shared.values == before
    complete = await parts.add(part(3))
    assert complete is not None
    await parts.finish(complete, now_ms=2_000)
    assert await parts.add(part(2)) is None
    assert await parts.pending("+15125550123", "7", 3) == []


async def test_parts_arriving_at_once_are_all_kept():
    shared = SharedState()
    results = await asyncio.gather(*(store(shared).add(part(n, total=5)) for n in range(1, 6)))
    assert sum(result is not None for result in results) >= 1
    pending = await store(shared).pending("+15125550123", "7", 5)
    assert [p.part for p in pending] == [1, 2, 3, 4, 5]


async def test_groups_older_than_two_days_are_forgotten():
    shared = SharedState()
    parts = store(shared)
    await parts.add(part(1, ref="old", at=1_000))
    await parts.add(part(1, ref="new", at=1_000 + KEEP_MS))
    done = await parts.pending("+15125550123", "new", 3)
    await parts.finish(done, now_ms=2_000 + KEEP_MS)
    assert await parts.pending("+15125550123", "old", 3) == []
    keys = {key for (_, _, key) in shared.values}
    assert keys == {INDEX_KEY, "multipart:+15125550123:3:new"}


def test_a_group_stored_with_a_huge_claim_joins_to_a_bounded_text():
    # Groups stored before the webhook refused such claims: the join still reads only so much.
    assert len(join([part(1, total=300_000)])) <= MAX_TEXT_CHARS
