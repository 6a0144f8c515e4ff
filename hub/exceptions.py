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
