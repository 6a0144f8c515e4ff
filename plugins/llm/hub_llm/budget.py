"""The daily budget: how many requests one business may make today, in its plugin state.

One key per business, ``{"day": "2026-12-01", "used": 3}``: the business's local day, so the
budget renews at its midnight, and a new day overwrites the old one (nothing accumulates).
``compare_and_set`` makes two workers reading replies at once count two.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hub import PluginState

KEY = "budget"
#: Attempts at the compare-and-set before giving up (and not calling: the budget errs low).
_TRIES = 8


async def take(state: PluginState, now: datetime, timezone: str, limit: int) -> bool:
    """Count one request against today's budget; ``False`` (and nothing counted) if spent."""
    day = now.astimezone(ZoneInfo(timezone)).date().isoformat()
    for _ in range(_TRIES):
        current = await state.get(KEY)
        used = 0
        if isinstance(current, dict) and current.get("day") == day:
            count = current.get("used")
            used = count if isinstance(count, int) else limit
        if used >= limit:
            return False
        if await state.compare_and_set(KEY, current, {"day": day, "used": used + 1}):
            return True
    return False


async def used_today(state: PluginState, now: datetime, timezone: str) -> int:
    day = now.astimezone(ZoneInfo(timezone)).date().isoformat()
    current = await state.get(KEY)
    if isinstance(current, dict) and current.get("day") == day:
        count = current.get("used")
        return count if isinstance(count, int) else 0
    return 0
