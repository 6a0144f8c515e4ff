"""Phone numbers: one normalized form (E.164 with ``+``) for everything the core stores.

Providers disagree (Vonage drops the ``+``), caller ids can be withheld in several spellings,
and PBXs send national formats; ``caller_number`` turns all of that into E.164 or ``None``.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SEPARATORS = re.compile(r"[\s\-().]")

#: Spellings of a withheld caller id, and numbers carriers use for one.
_WITHHELD = {
    "",
    "anonymous",
    "restricted",
    "private",
    "unknown",
    "unavailable",
    "blocked",
    "+266696687",  # "ANONYMOUS" on a keypad; Twilio's From for a withheld caller id
    "+7378742833",  # "RESTRICTED"
    "+86282452253",  # "UNAVAILABLE"
    "+2562533",  # "BLOCKED"
}


def is_e164(value: str) -> bool:
    return bool(_E164.match(value))


def to_e164(value: str) -> str:
    """Normalize a configured number (separators allowed) or raise ``ValueError``."""
    compact = _SEPARATORS.sub("", value.strip())
    if not _E164.match(compact):
        raise ValueError(f"{value!r} is not an E.164 phone number like +15125550100")
    return compact


def region_of(number: str) -> str | None:
    """The ISO country of an E.164 number (``US`` for +1 512...), if it resolves."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


@functools.lru_cache(maxsize=4096)
def caller_number(raw: str | None, default_region: str | None = None) -> str | None:
    """A caller id as E.164, or ``None`` when it is withheld or not a dialable number.

    ``default_region`` reads national formats (``(512) 555-0123`` as US) and numbers sent
    without ``+`` (``15125550123``, as Vonage sends them).
    """
    if raw is None:
        return None
    text = raw.strip()
    compact = _SEPARATORS.sub("", text)
    if text.lower() in _WITHHELD or compact in _WITHHELD:
        return None
    if ":" in text or "@" in text:  # client:alice, sip:...
        return None
    if compact.startswith("+"):
        candidates = [compact]
    else:  # a national format first, then the same digits as an international number
        candidates = ([compact] if default_region else []) + ["+" + compact]
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(
                candidate, None if candidate.startswith("+") else default_region
            )
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if number not in _WITHHELD:
                return number
    return None
