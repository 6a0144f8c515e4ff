"""Opening hours and quiet hours, in the right timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.hours import OpeningHours
from hub.quiet import QuietHours

CHICAGO = "America/Chicago"
HOURS = OpeningHours.parse({"mon-fri": "08:00-17:00", "sat": "22:00-02:00"}, [date(2026, 12, 25)])


@pytest.mark.parametrize(
    ("utc", "open_"),
    [
        (datetime(2026, 11, 30, 14, 0), True),  # Monday 08:00 in Chicago
        (datetime(2026, 11, 30, 13, 59), False),  # 07:59
        (datetime(2026, 11, 30, 23, 0), False),  # 17:00, the window's end
        (datetime(2026, 11, 29, 7, 0), True),  # Sunday 01:00: Saturday's window runs past midnight
        (datetime(2026, 11, 29, 8, 0), False),  # Sunday 02:00
        (datetime(2026, 12, 25, 16, 0), False),  # Christmas, a Friday: a holiday
        (datetime(2026, 6, 1, 13, 0), True),  # Monday 08:00 in summer time (UTC-5)
    ],
)
def test_is_open_in_the_business_timezone(utc, open_):
    assert HOURS.is_open(utc.replace(tzinfo=UTC), CHICAGO) is open_


def test_next_open_and_business_time():
    friday_1630 = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)
    assert HOURS.next_open(friday_1630, CHICAGO) == friday_1630
    # 30 minutes left on Friday, then Saturday night's window.
    saturday_2230 = datetime(2026, 11, 28, 22, 30, tzinfo=UTC) + timedelta(hours=6)
    assert HOURS.add_open_time(friday_1630, CHICAGO, timedelta(hours=1)) == saturday_2230
    assert OpeningHours.parse({}).next_open(friday_1630, CHICAGO) is None


def test_bad_windows_are_refused():
    for spec in (
        {"mon": "9-5"},
        {"funday": "08:00-17:00"},
        {"fri-mon": "08:00-09:00"},
        {"mon": "08:00-08:00"},
    ):
        with pytest.raises(ValueError):
            OpeningHours.parse(spec)


def test_quiet_hours_follow_the_recipient_and_their_state():
    quiet = QuietHours()
    night_in_texas = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)  # 22:30 in Austin
    assert quiet.next_allowed(night_in_texas, "+15125550123", CHICAGO) == datetime(
        2026, 12, 1, 15, 0, tzinfo=UTC
    )
    evening = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 20:30 in Miami and New York
    assert quiet.next_allowed(evening, "+12125550123", CHICAGO) == evening  # New York: 08:00-21:00
    assert quiet.next_allowed(evening, "+13055550123", CHICAGO) > evening  # Florida: until 20:00
    # A number whose area code spans zones (toll-free) falls back to the business's zone.
    assert quiet.next_allowed(night_in_texas, "+18005550123", CHICAGO) > night_in_texas


def test_the_area_code_table_matches_phonenumbers():
    import phonenumbers
    from phonenumbers import geocoder

    from hub._area_codes import STATE_OF_AREA_CODE
    from hub.quiet import us_state

    assert len(STATE_OF_AREA_CODE) > 300
    names = {"Florida": "FL", "Texas": "TX", "California": "CA", "New York": "NY", "Ohio": "OH"}
    for area_code in range(200, 1000):
        number = phonenumbers.parse(f"+1{area_code}2020123")
        if phonenumbers.region_code_for_number(number) != "US":
            continue
        place = geocoder.description_for_number(number, "en")
        expected = place.rsplit(", ", 1)[1] if ", " in place else names.get(place)
        if expected is not None:  # a city's state, or a state this test can name
            assert STATE_OF_AREA_CODE.get(area_code) == expected, area_code
    assert us_state("+13055550123") == "FL" and us_state("+447700900001") is None
