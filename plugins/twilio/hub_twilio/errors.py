"""Twilio's error codes that are about the person, not the message.

21610 (they texted STOP to this sender) marks them opted out; 30006 / 21614 / 21635 (a landline
or a number that cannot take texts) tell the owner to call instead.
"""

from __future__ import annotations

from hub import RecipientIssue

OPTED_OUT_CODES = frozenset({21610})
CANNOT_RECEIVE_CODES = frozenset({30006, 21614, 21635})
#: Twilio's "too many requests" error code, sometimes sent with an HTTP status other than 429.
RATE_LIMIT_CODE = 20429


class LookupFailed(Exception):
    """Lookup could not say what line a number is; the text is sent anyway."""


def recipient_issue(code: int | str | None) -> RecipientIssue | None:
    try:
        number = int(code) if code is not None else None
    except ValueError:
        return None
    if number in OPTED_OUT_CODES:
        return RecipientIssue.OPTED_OUT
    if number in CANNOT_RECEIVE_CODES:
        return RecipientIssue.CANNOT_RECEIVE
    return None
