"""Customer text never costs more than its length: every regex and rule that reads it is
linear, shown by growth (10 KB → 100 KB costs about ten times as much, not a hundred), with a
generous ceiling as a guard. And the parsers never read more than ``MAX_PARSED_CHARS``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from hub.defaults.rules import read_reply
from hub.keywords import classify_intent, is_keyword
from hub.replies import MAX_PARSED_CHARS
from hub.testing import in_process_hub, write_config
from hub.text import fold, normalize, sentences, words
from hub.types import ParseContext

CONTEXT = ParseContext(
    business="acme",
    timezone="America/Chicago",
    received_at=datetime(2026, 12, 1, 12, tzinfo=UTC),
    services={"plumbing": ("leak", "water heater", "drain"), "electrical": ("outlet",)},
)

#: Units repeated to length: long runs of what each pattern loops on, and near-misses.
ADVERSARIAL = [
    " ",
    "a ",
    "x",
    "1",
    "9 ",
    ". ",
    " -",
    "- ",
    "\n",
    "stop ",
    "dont ",
    "no ",
    "my name is ",
    "call me at ",
    "call me at 5 ",
    "tomorrow ",
    "between ",
    "a/",
    "a.",
    "#",
    "@",
    "e\u0301",
    "\u202e",
    "water ",
    "toliet",
    "787",
    "-1",
    "'s ",
]

READERS: dict[str, Callable[[str], object]] = {
    "classify_intent": classify_intent,
    "is_keyword": is_keyword,
    "fold": fold,
    "normalize": normalize,
    "sentences": lambda text: sentences(normalize(text)),
    "words": lambda text: words(normalize(text)),
    "rules": lambda text: read_reply(text, CONTEXT),
}


def _cost(read: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(2):  # the better of two: a shared machine stalls now and then
        start = time.perf_counter()
        read(text)
        best = min(best, time.perf_counter() - start)
    return best


def _text(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


@pytest.mark.parametrize("reader", sorted(READERS))
def test_reading_customer_text_is_linear(reader):
    read = READERS[reader]
    for unit in ADVERSARIAL:
        small = _cost(read, _text(unit, 10_000))
        large = _cost(read, _text(unit, 100_000))
        # Linear: ~10x. Quadratic: ~100x. The slack absorbs timer noise on tiny costs.
        assert large < 30 * small + 0.05, (reader, unit, small, large)
        assert large < 2.0, (reader, unit, large)


async def test_the_parsers_read_a_capped_text(hub_dir):
    async with in_process_hub(write_config(hub_dir)) as running:
        acme = running.hub.config.businesses["acme"]
        at = running.clock.now()
        early = "zip 78704 " + " " * 100_000
        late = " " * (MAX_PARSED_CHARS + 10) + "zip 78704"
        found, _ = await running.hub.replies.parse(acme, early, at)
        assert found.zip == "78704"
        found, _ = await running.hub.replies.parse(acme, late, at)
        assert found.zip is None
