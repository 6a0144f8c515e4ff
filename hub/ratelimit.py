"""A per-key rate limit kept in this process's memory: web-form posts per IP, API requests per
token. Each key may make ``limit`` requests in any ``window`` seconds (a sliding log). Memory
is bounded: at most ``max_keys`` keys are tracked, the least recently seen forgotten first, so
a flood of addresses cannot grow it. Several ``hub serve`` processes each keep their own
count, so the limit a client meets is per process: enough to stop a script, not a ledger.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimit:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float],
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Count a request by ``key``: ``None`` if it is allowed, else the seconds until the
        next one would be (what ``Retry-After`` says)."""
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1.0, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None
