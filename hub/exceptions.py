"""Exceptions plugins may raise or catch."""

from __future__ import annotations


class Refused(Exception):
    """A webhook the hub will not act on: answered with ``status_code`` and nothing stored.

    Raise it from a provider route (a bad signature → 403) or let the flow raise it (the
    called number is not one of the business's numbers → 403).
    """

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


#: Longest provider id (a call's, a text's) the hub stores: the columns hold 128 characters.
MAX_PROVIDER_ID = 128


def check_provider_id(value: str, what: str) -> None:
    """Refuse (400) a provider's id the hub could not store, rather than fail on the insert."""
    if not value or len(value) > MAX_PROVIDER_ID:
        raise Refused(400, f"{what} must be 1 to {MAX_PROVIDER_ID} characters")
