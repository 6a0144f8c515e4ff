"""How Jobber's answers become ``DeliveryResult``\\ s: a ``JobberError`` carries the result a
delivery should return, in words the owner can act on (``hub leads show`` shows them)."""

from __future__ import annotations

import hub


class JobberError(Exception):
    """A call that cannot go on now; ``result`` says whether to retry, and why."""

    def __init__(self, result: hub.DeliveryResult, *, uncertain: bool = False) -> None:
        super().__init__(result.error)
        self.result = result
        #: Whether Jobber may have done it anyway (a 5xx, a timeout after sending): a
        #: mutation's retry must look for its object before making it again.
        self.uncertain = uncertain

    @classmethod
    def retry(
        cls, error: str, *, retry_after: float | None = None, uncertain: bool = False
    ) -> JobberError:
        return cls(hub.DeliveryResult.retry(error, retry_after=retry_after), uncertain=uncertain)

    @classmethod
    def failed(cls, error: str) -> JobberError:
        return cls(hub.DeliveryResult.failed(error))


class NotConnected(Exception):
    """No usable Jobber tokens: the owner must connect (again). The message says how."""


class Unauthorized(Exception):
    """Jobber refused the access token (401): renew it once, then give up."""
