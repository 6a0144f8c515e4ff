"""Keeps every business that uses one HubSpot token under that token's rate limits, in this
process.

HubSpot counts requests per account (100 every 10 seconds on Free/Starter, shared by every app
with a token for it; CRM search about 4 a second) and answers 429 once over. The windows here
are keyed by a hash of the token, so ten businesses an agency runs on one HubSpot account share
one window. A request that would go over is not made: the delivery goes back to the hub's
durable queue with ``retry_after`` (no worker sleeps, and the wait survives a restart). A 429
closes the window for everyone on the token until HubSpot's interval has passed.

Time is the hub's clock, so a test's ``ManualClock`` moves it. With several hub processes on
one token, lower ``requests_per_10s`` accordingly.
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


_WINDOWS: dict[tuple[str, str], Window] = {}


def window(account: str, name: str, limit: int, seconds: float) -> Window:
    """The shared window ``name`` (``all``, ``search``) of the account with hash ``account``."""
    found = _WINDOWS.get((account, name))
    if found is None or found.limit != limit:
        found = _WINDOWS[(account, name)] = Window(limit, seconds)
    return found
