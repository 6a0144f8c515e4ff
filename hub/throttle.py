"""Rate windows a plugin shares across the businesses that use one account of a service: an
agency's ten businesses on one CRM token share that token's limit. In-process; the service's
own 429 remains the truth across processes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class RateWindow:
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
        """The service said to wait (a 429): nobody sends for ``seconds``."""
        self.closed_until = max(self.closed_until, now + seconds)


_WINDOWS: dict[Hashable, RateWindow] = {}


def rate_window(key: Hashable, limit: int, seconds: float) -> RateWindow:
    """The window shared by everything in this process that uses ``key`` (a hash of an
    account's credentials, and which limit: ``(account, "search")``)."""
    found = _WINDOWS.get(key)
    if found is None or found.limit != limit:
        found = _WINDOWS[key] = RateWindow(limit, seconds)
    return found
