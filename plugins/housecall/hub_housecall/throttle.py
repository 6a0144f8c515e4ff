"""Keeps every business that uses one Housecall Pro API key under that key's rate limit, in
this process.

Housecall Pro does not publish its limit; it answers 429 when a key sends too much. The window
here (``requests_per_minute``) is keyed by a hash of the API key, so every business an agency
runs on one Housecall Pro account shares it. A request that would go over is not made: the
delivery goes back to the hub's durable queue with ``retry_after``. A 429 closes the window for
everyone on the key for as long as its ``Retry-After`` says. Time is the hub's clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Window:
    """At most ``limit`` requests in any ``seconds``-long stretch."""

    limit: int
    seconds: float
    sent: deque[float] = field(default_factory=deque)
    closed_until: float = 0.0

    def take(self, now: float) -> float:
        """Count a request made at ``now`` and return 0, or return the seconds to wait (and
        count nothing)."""
        if now < self.closed_until:
            return self.closed_until - now
        while self.sent and self.sent[0] <= now - self.seconds:
            self.sent.popleft()
        if self.sent and now < self.sent[-1]:  # another hub's clock in this process (tests)
            self.sent.clear()
        if len(self.sent) >= self.limit:
            return self.sent[0] + self.seconds - now
        self.sent.append(now)
        return 0.0

    def close(self, now: float, seconds: float) -> None:
        self.closed_until = max(self.closed_until, now + seconds)


_WINDOWS: dict[str, Window] = {}


def window(account: str, limit: int) -> Window:
    """The shared per-minute window of the key with hash ``account``."""
    found = _WINDOWS.get(account)
    if found is None or found.limit != limit:
        found = _WINDOWS[account] = Window(limit, 60.0)
    return found
