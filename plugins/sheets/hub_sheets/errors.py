"""How a Google answer becomes a ``DeliveryResult``: a ``SheetsError`` carries the result a
delivery should return, with words the owner can act on (they show in ``hub leads show``)."""

from __future__ import annotations

import hub


class SheetsError(Exception):
    """A write that cannot go on now; ``result`` says whether to retry, and why."""

    def __init__(self, result: hub.DeliveryResult) -> None:
        super().__init__(result.error)
        self.result = result

    @classmethod
    def retry(cls, error: str, *, retry_after: float | None = None) -> SheetsError:
        return cls(hub.DeliveryResult.retry(error, retry_after=retry_after))

    @classmethod
    def failed(cls, error: str) -> SheetsError:
        return cls(hub.DeliveryResult.failed(error))
