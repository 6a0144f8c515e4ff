"""When to call the customer back: the start of a window, and its end where the text gives one.

Times are read against when the text arrived, in the business's timezone. In order of
precedence (the first that applies wins):

1. "in an hour": that long after arrival;
2. a clock time ("after 5", "at 9:30", "between 2 and 4", "noon", "2ish"), on the day the text
   names or else the next time that hour comes round; a bare 1-7 is afternoon, 8-11 morning;
3. "asap", "right away", "now" in a request ("can you come right now"): arrival time;
4. a part of a day ("tomorrow morning", "Friday afternoon", "mornings are best"): its start
   (morning 8-12, afternoon 12-17, evening 17-21), or the arrival time if it is already under way;
5. a day said as availability ("Monday works", "call me tomorrow", "call me next week"): 8:00
   that day, or arrival time for today. A day alone is usually when to come, not when to call
   ("can you come Thursday", "by Friday"), so without one of those words it is ignored;
6. "call me", "call me back", "call 512-555-0143", "anytime": arrival time.

Days in a past clause ("it broke on Monday", "quit this morning") are ignored.

Negations are read first: "no earlier than 11", "not before 2", "don't call before 11" and
"not until 3" start at that time; "no later than 3" ends at it; "after lunch" is 1pm; "not in
the morning" is the afternoon. A day the text rules out ("anything except Wednesday", "not
Wednesday", "Wednesday is out") is never the day: when the window would fall on it, it moves to
8:00 the next day that is not. A bare hour with the evening named ("this evening, like 8:30")
is pm. A part of the day said of a visit ("can you come tomorrow afternoon") is no callback
time, like the visit day itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hub.text import sentences
from hub.types import CallbackWindow

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = "|".join(_WEEKDAYS)
_PARTS = {  # start hour, end hour
    "morning": (8, 12),
    "lunch": (12, 13),
    "afternoon": (12, 17),
    "evening": (17, 21),
    "night": (17, 21),
    "after work": (17, 21),
    "after school": (15, 18),
}

_TIME = r"(\d{1,2})(?::([0-5]\d))?\s*(am|pm)?"
# A number that is not an hour: part of a longer number, a phone number, a price, an address.
_NOT_HOUR_AFTER = (
    r"(?!\d|,\d|\.\d|-\d|/|\s*(?:st|nd|rd|th)\b|\s*(?:weeks?|days?|months?|years?|yrs?|hours?|hrs?"
    r"|minutes?|mins?|ft|feet|foot|inches|gal|gallons|bed|beds|bedrooms?|br|ba|bath|rooms?"
    r"|units?|people|kids|times|x\b|degrees|amps?|volts?|v\b|stories|story|floors?|percent|%"
    r"|dollars|bucks|k\b|[a-z]+ (?:st|ave|rd|dr|blvd|ln)\b))"
)
_RANGE_RE = re.compile(
    rf"\b(?:between|btwn|from)\s+{_TIME}\s*(?:and|to|-|till|til|until|&)\s*{_TIME}{_NOT_HOUR_AFTER}"
    rf"|\b{_TIME}\s*(?:-|to)\s*(\d{{1,2}})(?::([0-5]\d))?\s*(am|pm)\b"
)
_BEFORE_RE = re.compile(rf"\b(?:before|by)\s+{_TIME}{_NOT_HOUR_AFTER}")
_AT_RE = re.compile(
    rf"\b(?:after|past|at|around|about|arround|aroud|round|from)\s+{_TIME}"
    rf"(?:\s*o'?clock)?{_NOT_HOUR_AFTER}"
)
_EXPLICIT_RE = re.compile(
    rf"(?<![\d:$.,-])(?:(\d{{1,2}}):([0-5]\d)\s*(am|pm)?|(\d{{1,2}})\s*(am|pm)\b){_NOT_HOUR_AFTER}"
)
_ISH_RE = re.compile(r"(?<![\d:$.,-])(\d{1,2})\s*-?\s*ish\b")
_NOON_RE = re.compile(r"(?<!before )(?<!by )\b(?:noon|midday|mid-day)\b")
_BEFORE_NOON_RE = re.compile(r"\b(?:before|by) (?:noon|midday|lunch)\b")

_RELATIVE_RE = re.compile(
    r"\bin (an?|one|half an?|a couple(?: of)?|a few|two|three|\d{1,3}) (hours?|minutes?)\b"
)
_IMMEDIATE_RE = re.compile(
    r"\b(?:asap|as soon as (?:possible|you can)|right away|immediately|at once|a\.s\.a\.p)\b"
)
# "now" that starts a new clause ("now every time it rains") is no request for now.
_NOW_RE = re.compile(
    r"\b(?:right now|now)\b(?! (?:every|my|the|it|its|there|i|we|he|she|they|that|this|when"
    r"|whenever|our|your|his|her)\b)"
)
# "now" as the whole answer: "now", "now is good", "right now please".
_NOW_ALONE_RE = re.compile(
    r"^(?:right )?now(?: please)?(?: (?:is |would be )?(?:good|fine|ok|okay|best|works?))?\W*$"
)
_REQUEST_RE = re.compile(
    r"\b(?:call|ring|phone|come|send|need|someone|somebody|can you|could you|please|get here"
    r"|free|home|available)\b"
)
_DAY_RE = re.compile(
    r"\b(?:(today|tonight|tomorrow)|this (morning|afternoon|evening)|(next) week"
    r"|(?:this )?(weekend)|(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?)\b"
)
_PART_RE = re.compile(
    r"\b(?:(mornings?|afternoons?|evenings?|lunch(?:time| time| break)?|after work|after school)"
    r"|(?:tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday) (night)|(tonight))\b"
)
# Words that make a day the customer's availability ("Monday works", "call me tomorrow")...
_AVAILABLE_RE = re.compile(
    r"\b(?:call|calling|ring|phone|reach|talk|contact|works?|work for me|free|good|best|fine"
    r"|ok|okay|home|around|better|prefer(?:red)?|any ?time)\b"
)
# ... or a sentence that is nothing but a day ("Monday?", "on Tuesday please")...
# Possessive runs: three adjacent `\W*` backtracking into each other were cubic on a long run
# of spaces ending in a word; every word here starts with a letter, so nothing is lost.
_DAY_ALONE_RE = re.compile(r"^\W*+(?:on|maybe|how about|what about)?\W*+(?:please)?\W*+$")
# ... and words before a day that make it a visit or a deadline ("come Thursday", "by Friday").
_NOT_AVAILABLE_BEFORE = re.compile(
    r"\b(?:by|before|until|till|come|come out|out|for|since|last|visit|done|finished)\s+$"
)
_VISIT_DAY_BEFORE = re.compile(rf"\b(?:today|tomorrow|{_WEEKDAY_NAMES})\s+$")
_CALL_ME_RE = re.compile(
    r"\b(?:call|ring|phone) (?:me|us)\b|\bcall (?:me |us )?back\b|\bcallback\b"
    r"|\b(?:please|can you|could you|can someone|have someone|someone|you can|pls) call\b"
    r"|\bgive (?:me|us) a (?:call|ring)\b|\bcall\s+(?:\+?1[\s.-]*)?\(?\d{3}"
    r"|^call\b|\bcall (?:asap|anytime|any time|whenever)\b"
)
_NEGATION_BEFORE = re.compile(
    r"\b(?:don'?t|do not|not|never|didn'?t|can'?t|no need to)\s+$"
    r"|\b(?:did|who|why|whoever)\s+(?:\w+\s+)?$"  # a question about a call: "did someone call me"
)
_ANYTIME_RE = re.compile(
    r"\bany ?time\b|\b(?:home|free|around|here|available) all day\b"
    r"|\b(?:any day|anything)\s+(?:works|is fine|is good|is ok)\b"
)
# Negated times said as the times they mean.
_REWRITES = [
    (
        re.compile(
            r"\b(?:no earlier than|not earlier than|no sooner than|not before|not until(?: after)?"
            r"|(?:don'?t|do not|please don'?t) call(?: me| us)? (?:before|until))\s+"
        ),
        "after ",
    ),
    (re.compile(r"\b(?:no later than|not later than|not after)\s+"), "before "),
    (re.compile(r"\bafter lunch\b"), "after 1pm"),
    (re.compile(r"\bnot (?:in the )?mornings?\b"), "afternoon"),
]
_WEEKDAY = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_EXCLUDED_RE = re.compile(
    r"\b(?:except|but not|just not|not|other than|besides|excepto|menos)\s+(?:on\s+)?"
    rf"({_WEEKDAY})s?\b"
    rf"|\b({_WEEKDAY})s?\s+(?:is|'s)\s+(?:out|bad|no good|not good)\b"
    rf"|\b({_WEEKDAY})s?\s+(?:doesn'?t|does not|won'?t|will not|can'?t) work\b"
)
_EVENING_RE = re.compile(r"\b(?:evening|tonight|night)\b")
# How far back a clause is looked at, in characters: enough for any clause, and long texts stay
# linear.
_CLAUSE = 120
_PAST_CLAUSE = re.compile(
    r"\b(?:broke|broken|happened|started|stopped|quit|died|went|began|came|since|last|ago"
    r"|yesterday|noticed|flooded)\b[^.!?,]*$"
)


@dataclass(frozen=True, slots=True)
class _Clock:
    position: int
    #: (hour, minute); ``None`` for "before 3": from arrival.
    start: tuple[int, int] | None
    end: tuple[int, int] | None = None


def find_callback(text: str, received_at: datetime) -> CallbackWindow | None:
    """The callback window normalized ``text`` asks for, relative to ``received_at``."""
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    excluded: set[int] = set()
    for match in _EXCLUDED_RE.finditer(text):
        excluded.add(_WEEKDAYS.index(next(group for group in match.groups() if group)))
    if excluded:  # out of the text, so no rule reads the day as offered
        text = _EXCLUDED_RE.sub(" ", text)
    window = _find_window(text, received_at)
    if window is None or window.start.weekday() not in excluded:
        return window
    day = window.start.date()
    while day.weekday() in excluded:
        day += timedelta(days=1)
    return CallbackWindow(_at(day, 8, 0, received_at))


def _find_window(text: str, received_at: datetime) -> CallbackWindow | None:
    relative = _RELATIVE_RE.search(text)
    if relative:
        return CallbackWindow(received_at + _duration(relative))
    day, day_is_explicit = _day(text, received_at)
    clock = _clock(text)
    if clock is not None:
        if clock.start and clock.start[0] < 12 and _EVENING_RE.search(text):
            # "this evening, like 8:30": a bare hour of the evening is pm.
            late_end = (
                (clock.end[0] + 12, clock.end[1]) if clock.end and clock.end[0] < 12 else clock.end
            )
            clock = _Clock(clock.position, (clock.start[0] + 12, clock.start[1]), late_end)
        return _window(clock, day, day_is_explicit, received_at)
    if _IMMEDIATE_RE.search(text) or _now_requested(text):
        return CallbackWindow(received_at)
    part = _part_of_day(text)
    if part is not None:
        first, last = _PARTS[part]
        when = day or received_at.date()
        if day is None and received_at.hour >= last:
            when += timedelta(days=1)
        start, end = _at(when, first, 0, received_at), _at(when, last, 0, received_at)
        if start < received_at:  # under way (or, oddly, over): from now
            return CallbackWindow(received_at, end if end > received_at else None)
        return CallbackWindow(start, end)
    if day is not None and _day_is_availability(text):
        if day == received_at.date():
            return CallbackWindow(received_at)
        return CallbackWindow(_at(day, 8, 0, received_at))
    if _call_requested(text) or _ANYTIME_RE.search(text):
        return CallbackWindow(received_at)
    return None


def _window(
    clock: _Clock, day: date | None, day_is_explicit: bool, received_at: datetime
) -> CallbackWindow:
    when = day or received_at.date()
    if clock.start is None:  # "before 3"
        end = _at(when, *clock.end, received_at) if clock.end else None
        if end is not None and end <= received_at and day is None:
            when += timedelta(days=1)
            end += timedelta(days=1)
        start = received_at if when == received_at.date() else _at(when, 8, 0, received_at)
        return CallbackWindow(start, end if end and end > start else None)
    start = _at(when, *clock.start, received_at)
    if start < received_at:
        if day is None:  # "after 5" said at 7pm: tomorrow
            when += timedelta(days=1)
            start += timedelta(days=1)
        elif day_is_explicit and day == received_at.date():  # "tonight after 7" said at 7:30
            start = received_at
    end = _at(when, *clock.end, received_at) if clock.end else None
    return CallbackWindow(start, end if end and end > start else None)


def _at(day: date, hour: int, minute: int, like: datetime) -> datetime:
    """``hour:minute`` on ``day`` in ``like``'s timezone (zoneinfo applies DST for that day)."""
    day_offset, hour = divmod(hour, 24)
    return datetime.combine(day + timedelta(days=day_offset), time(hour, minute), like.tzinfo)


def _duration(match: re.Match[str]) -> timedelta:
    amount, unit = match.group(1), match.group(2)
    counts = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "a few": 3}
    if amount.startswith("half"):
        value = 0.5
    elif amount.startswith("a couple"):
        value = 2
    else:
        value = counts.get(amount) or float(amount)
    return timedelta(hours=value) if unit.startswith("hour") else timedelta(minutes=value)


def _hour(hours: str, minutes: str | None, meridiem: str | None) -> tuple[int, int] | None:
    """24-hour time of a customer's "5", "5:30", "8am"; a bare 1-7 is pm, 8-11 am."""
    hour, minute = int(hours), int(minutes or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        return (hour % 12 + (12 if meridiem == "pm" else 0), minute)
    if minutes is not None and 13 <= hour <= 23:
        return (hour, minute)
    if not 1 <= hour <= 12:
        return None
    return (hour + 12 if hour <= 7 else hour, minute)


def _clock(text: str) -> _Clock | None:
    """The first clock time in ``text``: "after 5", "at 9:30", "between 2 and 4", "noon"."""
    found: list[_Clock] = []
    for match in _RANGE_RE.finditer(text):
        groups = match.groups()
        first, second = (groups[0:3], groups[3:6]) if groups[0] else (groups[6:9], groups[9:12])
        # "2-4pm": the end's pm applies to the start too.
        start = _hour(first[0], first[1], first[2] or second[2])
        end = _hour(*second)
        if start and end:
            if end <= start and end[0] < 12:
                end = (end[0] + 12, end[1])
            found.append(_Clock(match.start(), start, end))
    for match in _BEFORE_RE.finditer(text):
        parsed = _hour(*match.groups())
        if parsed:
            found.append(_Clock(match.start(), None, parsed))
    for match in _BEFORE_NOON_RE.finditer(text):
        found.append(_Clock(match.start(), None, (12, 0)))
    for match in _AT_RE.finditer(text):
        parsed = _hour(*match.groups())
        if parsed:
            found.append(_Clock(match.start(), parsed))
    for match in _EXPLICIT_RE.finditer(text):
        if match.group(1):
            parsed = _hour(match.group(1), match.group(2), match.group(3))
        else:
            parsed = _hour(match.group(4), None, match.group(5))
        if parsed:
            found.append(_Clock(match.start(), parsed))
    for match in _ISH_RE.finditer(text):
        parsed = _hour(match.group(1), None, None)
        if parsed:
            found.append(_Clock(match.start(), parsed))
    for match in _NOON_RE.finditer(text):
        found.append(_Clock(match.start(), (12, 0)))
    return min(found, key=lambda clock: clock.position) if found else None


def _day(text: str, received_at: datetime) -> tuple[date | None, bool]:
    """The first day the text names that is not in a past clause, and whether it was named
    outright (today, tonight, tomorrow, a weekday) rather than implied (next week)."""
    today = received_at.date()
    for match in _DAY_RE.finditer(text):
        before = text[max(0, match.start() - _CLAUSE) : match.start()]
        if _PAST_CLAUSE.search(before) or _NOT_AVAILABLE_BEFORE.search(before):
            continue
        relative, this_part, next_week, weekend, weekday = match.groups()
        if relative in ("today", "tonight") or this_part:
            return today, True
        if relative == "tomorrow":
            return today + timedelta(days=1), True
        if next_week:
            return today + timedelta(days=7 - today.weekday()), False
        if weekend:
            return today + timedelta(days=max(0, 5 - today.weekday())), False
        if weekday:
            ahead = (_WEEKDAYS.index(weekday) - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead), True
    return None, False


def _part_of_day(text: str) -> str | None:
    for match in _PART_RE.finditer(text):
        before = text[max(0, match.start() - _CLAUSE) : match.start()]
        if _PAST_CLAUSE.search(before):
            continue
        visit = _VISIT_DAY_BEFORE.search(before)
        if visit and _NOT_AVAILABLE_BEFORE.search(before[: visit.start()]):
            continue  # "can you come tomorrow afternoon": when to come, not to call
        if match.group(2) or match.group(3):
            return "night"
        word = match.group(1)
        if word.startswith("lunch"):
            return "lunch"
        return word if word in _PARTS else word.rstrip("s")
    return None


def _now_requested(text: str) -> bool:
    """ "now" in a sentence that asks for something: "can you come right now", "call me now"."""
    return any(
        _NOW_ALONE_RE.match(sentence)
        or (_NOW_RE.search(sentence) is not None and _REQUEST_RE.search(sentence) is not None)
        for sentence in sentences(text)
    )


def _day_is_availability(text: str) -> bool:
    """Whether a sentence offers the day: "Monday works", "call me tomorrow", or just "Monday"."""
    for sentence in sentences(text):
        day = _DAY_RE.search(sentence)
        if day and (
            _AVAILABLE_RE.search(sentence) or _DAY_ALONE_RE.match(_DAY_RE.sub("", sentence))
        ):
            return True
    return False


def _call_requested(text: str) -> bool:
    for sentence in sentences(text):
        for match in _CALL_ME_RE.finditer(sentence):
            if not _NEGATION_BEFORE.search(sentence[: match.start()]):
                return True
    return False
