"""How a HubSpot answer becomes a ``DeliveryResult``: a ``HubSpotError`` carries the result a
delivery should return, in words the owner can act on (they show in ``hub leads show``)."""

from __future__ import annotations

import hub


class HubSpotError(Exception):
    """A call that cannot go on now; ``result`` says whether to retry, and why.

    ``maybe_written``: the request may have changed HubSpot although no answer said so (a
    timeout, a reset, a 5xx), so a create must not simply be sent again. ``auth``: the token
    was refused (401/403): the owner must fix it.
    """

    def __init__(
        self, result: hub.DeliveryResult, *, maybe_written: bool = False, auth: bool = False
    ) -> None:
        super().__init__(result.error)
        self.result = result
        self.maybe_written = maybe_written
        self.auth = auth

    @classmethod
    def retry(
        cls, error: str, *, retry_after: float | None = None, maybe_written: bool = False
    ) -> HubSpotError:
        return cls(
            hub.DeliveryResult.retry(error, retry_after=retry_after), maybe_written=maybe_written
        )

    @classmethod
    def failed(cls, error: str, *, auth: bool = False) -> HubSpotError:
        return cls(hub.DeliveryResult.failed(error), auth=auth)
