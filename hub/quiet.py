"""Quiet hours: when a text may reach a person, in the *recipient's* local time.

The recipient's timezone comes from their number's area code where it resolves to one zone
(``phonenumbers``), else the business's. The default window is the federal TCPA one,
08:00-21:00; US states with stricter rules get theirs (from ``compliance.md``; applying
solicitation rules to a missed-call reply is the conservative reading). A business can widen
nothing, but it can narrow the window and add or override states in hub.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as number_timezones

from hub._area_codes import STATE_OF_AREA_CODE
from hub.hours import OpeningHours

HoursSpec = Mapping[str, "str | list[str] | None"]

DEFAULT_WINDOW: HoursSpec = {"mon-sun": "08:00-21:00"}
STATE_WINDOWS: dict[str, HoursSpec] = {
    "FL": {"mon-sun": "08:00-20:00"},
    "OK": {"mon-sun": "08:00-20:00"},
    "MD": {"mon-sun": "08:00-20:00"},
    "MS": {"mon-sun": "08:00-20:00"},
    "NJ": {"mon-sun": "08:00-20:00"},
    "CT": {"mon-sun": "09:00-20:00"},
    "TX": {"mon-sat": "09:00-21:00", "sun": "12:00-21:00"},
    "RI": {"mon-fri": "09:00-18:00", "sat-sun": "10:00-17:00"},
}


@lru_cache(maxsize=4096)
def recipient_zone(phone: str) -> str | None:
    """The one timezone a number's area code points to, if it points to exactly one."""
    try:
        zones = number_timezones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None


@lru_cache(maxsize=4096)
def us_state(phone: str) -> str | None:
    """The US state of a number's area code (``FL``), where it is known."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(parsed) != "US" or parsed.national_number is None:
        return None
    return STATE_OF_AREA_CODE.get(parsed.national_number // 10_000_000)


class QuietHours:
    def __init__(
        self, window: HoursSpec | None = None, states: Mapping[str, HoursSpec] | None = None
    ) -> None:
        self.default = OpeningHours.parse(window or DEFAULT_WINDOW)
        self.states = {
            code.upper(): OpeningHours.parse(spec)
            for code, spec in {**STATE_WINDOWS, **(states or {})}.items()
        }

    def windows_for(self, phone: str) -> list[OpeningHours]:
        """The windows a text to ``phone`` must fall in: the business's, and the state's."""
        state = us_state(phone)
        return [self.default, self.states[state]] if state in self.states else [self.default]

    def next_allowed(self, moment: datetime, phone: str, business_timezone: str) -> datetime | None:
        """``moment`` if a text may go out to ``phone`` then, else the first moment it may
        (``None``: never within a week, which only a misconfigured window can cause)."""
        zone = recipient_zone(phone) or business_timezone
        windows = self.windows_for(phone)
        candidate = moment
        for _ in range(16):  # both windows open at once; a few hops settle it
            settled = True
            for window in windows:
                opens = window.next_open(candidate, zone)
                if opens is None:
                    return None
                if opens != candidate:
                    candidate, settled = opens, False
            if settled:
                return candidate
        return None
