"""For sinks that create records in another service (a CRM's customer, deal or lead): find or
create each exactly once, and carry a service's answer as the ``DeliveryResult`` to return.

``find_or_create`` keeps what it learns in the plugin's state: a key (``phone:+15125550123``,
``lead:7``) holds ``{"id": "..."}`` once the record is known. Before a create the key is marked
``{"creating": <event id>, "at": <hub time>}``; a create the service refused outright (a 4xx, a
429, nothing reached it) clears the mark, while one whose answer was lost (a timeout, a reset,
a 5xx, the process dying) leaves it. Whoever finds a mark then knows a record may exist that
the service's search does not show yet (a search index lags its writes), so it waits until
``SETTLE`` seconds after the create began, searches, and only if search still has nothing
creates again. A mark another delivery holds is waited for (``BUSY_RETRY``), unless it is older
than ``ABANDONED_AFTER``. Two deliveries never create one record twice: every step is a
``compare_and_set``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hub.context import JSON, PluginState
from hub.types import DeliveryResult

#: Seconds after a create began by which a service's search shows what it created.
SETTLE = 60.0
#: How soon a delivery that finds another's create under way comes back.
BUSY_RETRY = 30.0
#: After this long another delivery's mark is taken for abandoned.
ABANDONED_AFTER = 600.0


class DeliveryError(Exception):
    """A call to the service that cannot go on now; ``result`` is what the delivery returns,
    in words the owner can act on (they show in ``hub leads show``).

    ``maybe_written``: the request may have changed the service although no answer said so (a
    timeout, a reset, a 5xx), so a create must not simply be sent again. ``auth``: the
    credentials were refused (401/403): the owner must fix them.
    """

    def __init__(
        self, result: DeliveryResult, *, maybe_written: bool = False, auth: bool = False
    ) -> None:
        super().__init__(result.error)
        self.result = result
        self.maybe_written = maybe_written
        self.auth = auth

    @classmethod
    def retry(
        cls, error: str, *, retry_after: float | None = None, maybe_written: bool = False
    ) -> DeliveryError:
        return cls(
            DeliveryResult.retry(error, retry_after=retry_after), maybe_written=maybe_written
        )

    @classmethod
    def failed(cls, error: str, *, auth: bool = False) -> DeliveryError:
        return cls(DeliveryResult.failed(error), auth=auth)


async def find_or_create(
    state: PluginState,
    key: str,
    *,
    service: str,
    attempt: str,
    now: Callable[[], float],
    find: Callable[[], Awaitable[str | None]],
    create: Callable[[], Awaitable[str]],
    search_first: bool,
) -> tuple[str, bool]:
    """The record's id, and whether this call created it. ``service`` names the service in
    messages; ``attempt`` names this delivery (the event id: the same on its retries);
    ``search_first`` looks before a first create (a customer may exist already; a new lead's
    deal cannot). ``create`` raises ``DeliveryError`` when the service does not take it."""
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
            mine: JSON = {"creating": attempt, "at": now()}
            if await state.compare_and_set(key, None, mine):
                break
            continue
        at = known.get("at") if isinstance(known, dict) else None
        age = now() - at if isinstance(at, int | float) else ABANDONED_AFTER
        theirs = not isinstance(known, dict) or known.get("creating") != attempt
        if theirs and age < ABANDONED_AFTER:
            raise DeliveryError.retry(
                f"{key} is being created by another delivery", retry_after=BUSY_RETRY
            )
        if age < SETTLE:  # our earlier create may have landed: give search time to show it
            raise DeliveryError.retry(
                f"an earlier create of {key} went unanswered: looking again once {service}'s "
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
    except DeliveryError as error:
        if not error.maybe_written:  # refused outright: nothing to look for later
            await state.compare_and_set(key, mine, None)
        raise
    await state.set(key, {"id": created})
    return created, True
