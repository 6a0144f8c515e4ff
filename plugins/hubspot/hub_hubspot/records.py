"""Find or create a HubSpot record exactly once, with what the sink remembers in plugin state.

A key (``phone:+15125550123``, ``lead:7``) holds ``{"id": "..."}`` once the record is known.
Before a create the key is marked ``{"creating": <event id>, "at": <hub time>}``; a create that
HubSpot refused outright (a 4xx, a 429, nothing reached it) clears the mark, while one whose
answer was lost (a timeout, a reset, a 5xx, the process dying) leaves it. Whoever finds a mark
then knows a record may exist that search does not show yet (HubSpot's search lags its writes
by seconds), so it waits until ``SETTLE`` seconds after the create began, searches, and only if
search still has nothing creates again. A mark another delivery holds is waited for
(``BUSY_RETRY``), unless it is older than ``ABANDONED_AFTER``.

Two deliveries never create one record twice: every step is a ``compare_and_set``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import hub
from hub_hubspot.errors import HubSpotError

#: Seconds after a create began by which HubSpot's search shows what it created.
SETTLE = 60.0
#: How soon a delivery that finds another's create under way comes back.
BUSY_RETRY = 30.0
#: After this long another delivery's mark is taken for abandoned.
ABANDONED_AFTER = 600.0


async def find_or_create(
    state: hub.PluginState,
    key: str,
    *,
    attempt: str,
    now: Callable[[], float],
    find: Callable[[], Awaitable[str | None]],
    create: Callable[[], Awaitable[str]],
    search_first: bool,
) -> tuple[str, bool]:
    """The record's id, and whether this call created it. ``attempt`` names this delivery
    (the event id: the same on its retries); ``search_first`` looks before a first create (a
    contact may exist already; a new lead's deal cannot)."""
    while True:
        known = await state.get(key)
        if isinstance(known, dict) and isinstance(known.get("id"), str):
            return str(known["id"]), False
        if known is None:
            if search_first:
                found = await find()
                if found is not None:
                    if await state.compare_and_set(key, None, {"id": found}):
                        return found, False
                    continue
            mine: hub.JSON = {"creating": attempt, "at": now()}
            if await state.compare_and_set(key, None, mine):
                break
            continue
        at = known.get("at") if isinstance(known, dict) else None
        age = now() - at if isinstance(at, int | float) else ABANDONED_AFTER
        theirs = not isinstance(known, dict) or known.get("creating") != attempt
        if theirs and age < ABANDONED_AFTER:
            raise HubSpotError.retry(
                f"{key} is being created by another delivery", retry_after=BUSY_RETRY
            )
        if age < SETTLE:  # our earlier create may have landed: give search time to show it
            raise HubSpotError.retry(
                f"an earlier create of {key} went unanswered: looking again once HubSpot's "
                "search has caught up",
                retry_after=round(SETTLE - age + 1, 1),
            )
        found = await find()
        if found is not None:
            if await state.compare_and_set(key, known, {"id": found}):
                return found, False
            continue
        mine = {"creating": attempt, "at": now()}
        if await state.compare_and_set(key, known, mine):
            break
    try:
        created = await create()
    except HubSpotError as error:
        if not error.maybe_written:  # refused outright: nothing to look for later
            await state.compare_and_set(key, mine, None)
        raise
    await state.set(key, {"id": created})
    return created, True
