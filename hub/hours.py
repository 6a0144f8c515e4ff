"""Opening hours: is the business open at a given moment, in its own timezone?

Written in hub.yaml per weekday (``mon`` … ``sun``, full names, or ranges like ``mon-fri``)::

    hours:
      mon-fri: "08:00-17:00"
      sat: ["09:00-12:00", "13:00-15:00"]
      sun: closed            # a day that is absent is closed too

A window may cross midnight (``"22:00-02:00"``); ``"00:00-24:00"`` is open all day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MINUTES_PER_DAY = 24 * 60


def _day_index(name: str) -> int:
    key = name.strip().lower()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in _FULL_NAMES:
        return _FULL_NAMES.index(key)
    raise ValueError(f"unknown weekday {name!r} (use mon, tue, wed, thu, fri, sat, sun)")


def _days(spec: str) -> list[int]:
    if "-" in spec:
        first, last = (_day_index(part) for part in spec.split("-", 1))
        if last < first:
            raise ValueError(f"weekday range {spec!r} runs backwards")
        return list(range(first, last + 1))
    return [_day_index(spec)]


def _window(text: str) -> tuple[int, int]:
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"opening window {text!r} is not like '08:00-17:00'")
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"opening window {text!r} has an impossible time")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"opening window {text!r} is empty")
    return start, end


@dataclass(frozen=True)
class OpeningHours:
    """Windows in minutes of the day per weekday (0 = Monday); a window whose end is before its
    start runs past midnight into the next day."""

    windows: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(
        cls, spec: Mapping[str, str | Iterable[str] | None], holidays: Iterable[date] = ()
    ) -> OpeningHours:
        windows: dict[int, list[tuple[int, int]]] = {}
        for key, value in spec.items():
            if value is None or (isinstance(value, str) and value.strip().lower() == "closed"):
                parts: list[str] = []
            elif isinstance(value, str):
                parts = [part for part in value.split(",") if part.strip()]
            else:
                parts = list(value)
            for day in _days(str(key)):
                windows.setdefault(day, []).extend(_window(part) for part in parts)
        return cls(
            {day: tuple(sorted(found)) for day, found in windows.items()}, frozenset(holidays)
        )

    def is_open(self, moment: datetime, timezone: str) -> bool:
        """Whether ``moment`` (timezone-aware) falls in a window, in the business's timezone.

        Holidays close the whole local day, including a window that ran into it from the
        evening before.
        """
        local = moment.astimezone(ZoneInfo(timezone))
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        for start, end in self.windows.get(local.weekday(), ()):
            if start < end and start <= minute < end:
                return True
            if end < start and minute >= start:
                return True
        yesterday = (local - timedelta(days=1)).weekday()
        for start, end in self.windows.get(yesterday, ()):
            if (
                end < start
                and minute < end
                and (local.date() - timedelta(days=1)) not in self.holidays
            ):
                return True
        return False

    def _intervals(
        self, moment: datetime, timezone: str, days: int
    ) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals from the day before ``moment``'s local day, for ``days`` days, in
        order (holidays left out), made as needed. Local wall-clock times, converted through
        the timezone's rules."""
        zone = ZoneInfo(timezone)
        first = moment.astimezone(zone).date() - timedelta(days=1)
        for offset in range(days + 1):
            day = first + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, end in self.windows.get(day.weekday(), ()):
                midnight = datetime.combine(day, datetime.min.time(), zone)
                stop_day = day if end > start else day + timedelta(days=1)
                stop = datetime.combine(stop_day, datetime.min.time(), zone)
                yield midnight + timedelta(minutes=start), stop + timedelta(minutes=end)

    def next_open(self, moment: datetime, timezone: str) -> datetime | None:
        """``moment`` itself if open then, else when the next window opens (``None`` if never
        within a week)."""
        if self.is_open(moment, timezone):
            return moment
        for begin, _ in self._intervals(moment, timezone, days=8):
            if begin > moment:
                return begin
        return None

    def add_open_time(
        self, moment: datetime, timezone: str, duration: timedelta
    ) -> datetime | None:
        """The moment ``duration`` of opening time after ``moment`` ("in one business hour")."""
        remaining = duration
        for begin, stop in self._intervals(moment, timezone, days=31):
            if stop <= moment:
                continue
            start = max(begin, moment)
            if start + remaining <= stop:
                return start + remaining
            remaining -= stop - start
        return None

    @property
    def always_closed(self) -> bool:
        return not any(self.windows.values())

    def describe(self) -> str:
        if self.always_closed:
            return "closed"
        lines = []
        for day, found in sorted(self.windows.items()):
            text = ", ".join(
                f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in found
            )
            lines.append(f"{DAY_NAMES[day]} {text or 'closed'}")
        return "; ".join(lines)
