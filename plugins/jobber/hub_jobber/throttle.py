"""Jobber's query-cost budget, shared by every business that uses one Jobber account.

Jobber keeps a leaky bucket per app and account (10,000 points, restoring 500 a second) and
reports it after each query (``extensions.cost.throttleStatus``); a query that costs more than
is left is answered ``THROTTLED``. This remembers the last report per account, in this process,
so a business does not spend a query to learn that another business of the same account used
the budget up: it waits, briefly in place, else hands the wait back to the hub's durable retry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

#: Longest wait taken in place; longer ones become the delivery's ``retry_after``.
MAX_WAIT = 5.0


@dataclass
class Budget:
    available: float
    maximum: float
    restore_rate: float
    at: float
    #: What the account's last query was budgeted at: what the next one likely costs.
    cost: float = 100.0

    def now_available(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)


_BUDGETS: dict[str, Budget] = {}


def record(account: str, status: object, now: float, cost: object = None) -> None:
    """Remember ``extensions.cost.throttleStatus`` from an answer for ``account`` at ``now``
    (the hub's clock, in seconds)."""
    if not isinstance(status, dict):
        return
    try:
        budget = Budget(
            available=float(status["currentlyAvailable"]),
            maximum=float(status["maximumAvailable"]),
            restore_rate=max(float(status["restoreRate"]), 1.0),
            at=now,
            cost=float(cost) if isinstance(cost, int | float) and cost > 0 else 100.0,
        )
    except (KeyError, TypeError, ValueError):
        return
    _BUDGETS[account] = budget


def wait_for(account: str, cost: float, now: float, status: object = None) -> float:
    """Seconds until ``cost`` points are available to ``account`` (0: now), by ``status``
    (a THROTTLED answer's) if given, else by the last report."""
    if status is not None:
        record(account, status, now, cost)
    budget = _BUDGETS.get(account)
    if budget is None:
        return 0.0
    missing = min(cost, budget.maximum) - budget.now_available(now)
    return max(0.0, missing / budget.restore_rate)


async def take(account: str, now: float) -> float | None:
    """Wait until ``account`` can likely afford a query like its last; ``None`` once it may
    query, else the seconds to come back after."""
    budget = _BUDGETS.get(account)
    wait = wait_for(account, budget.cost, now) if budget else 0.0
    if wait > MAX_WAIT:
        return wait
    if wait:
        await asyncio.sleep(wait)
    return None


def forget() -> None:
    """Forget every budget (tests)."""
    _BUDGETS.clear()
