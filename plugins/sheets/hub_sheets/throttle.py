"""Keeps one service account under Google's per-minute write quota, in this process.

Google counts writes per minute per account (60) and answers 429 to every write for a while
once over. A token bucket spaces the writes: a short wait is taken here; a long one is handed
back to the hub as ``retry_after``, so a burst of leads never holds a worker for minutes (the
hub's durable queue keeps the write, and survives a restart meanwhile).

Buckets are per account and per process: with several hub processes writing through one
account, lower ``writes_per_minute`` accordingly.
"""

from __future__ import annotations

import asyncio
import time

#: Longest wait taken in place; longer ones become ``retry_after``.
MAX_WAIT = 5.0


class TokenBucket:
    """``rate`` writes a minute on average, with bursts of at most ``burst``."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        # A burst of a sixth of the minute's allowance: with ``per_minute`` refilled over the
        # minute, no 60-second window sees more than ``per_minute * 7 / 6`` writes (58 for
        # the default 50, under Google's 60).
        self.burst = max(1.0, per_minute / 6)
        self._tokens = self.burst
        self._at = time.monotonic()

    def reserve(self) -> float:
        """Take a write's place; the seconds to wait before making it (0: now).

        A reservation the caller does not wait for must be given back (``release``).
        """
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def release(self) -> None:
        self._tokens += 1


_BUCKETS: dict[tuple[str, int], TokenBucket] = {}


async def take(account: str, per_minute: int) -> float | None:
    """Wait for a write slot of ``account``; ``None`` once it may write, else the seconds to
    come back after (the slot was not taken)."""
    bucket = _BUCKETS.setdefault((account, per_minute), TokenBucket(per_minute))
    wait = bucket.reserve()
    if wait > MAX_WAIT:
        bucket.release()
        return wait
    if wait:
        await asyncio.sleep(wait)
    return None
