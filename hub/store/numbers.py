"""Numbers for the dashboard's analytics: per business, over a period, by day and by week.

Counted in Python from one bounded read of calls, text-backs, replies and leads per period,
so the sums read the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hub.store.db import Database
from hub.store.leads import _timestamp
from hub.store.sql import Sql

#: Rows of each kind one report reads at most.
MAX_ROWS = 200_000


@dataclass(slots=True)
class Numbers:
    """One business's numbers (or everyone's, rolled up) over a period."""

    calls: int = 0
    missed: int = 0
    text_backs: int = 0
    #: Seconds from each missed call to its text-back.
    delays: list[float] = field(default_factory=list)
    leads: int = 0
    texted_leads: int = 0
    replied_leads: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    #: Leads, and booked leads, by the source of the number called (``""``: none given).
    by_source: Counter[str] = field(default_factory=Counter)
    booked_by_source: Counter[str] = field(default_factory=Counter)
    #: Per day: calls, missed calls, leads.
    days: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    @property
    def reply_rate(self) -> float | None:
        return self.replied_leads / self.texted_leads if self.texted_leads else None

    @property
    def booked_rate(self) -> float | None:
        return self.by_status.get("booked", 0) / self.leads if self.leads else None

    @property
    def missed_rate(self) -> float | None:
        return self.missed / self.calls if self.calls else None

    def weeks(self) -> dict[date, Counter[str]]:
        """The days summed by week (keyed by the week's Monday)."""
        out: dict[date, Counter[str]] = defaultdict(Counter)
        for day, counts in self.days.items():
            out[day - timedelta(days=day.weekday())].update(counts)
        return dict(sorted(out.items()))

    def add(self, other: Numbers) -> None:
        self.calls += other.calls
        self.missed += other.missed
        self.text_backs += other.text_backs
        self.delays += other.delays
        self.leads += other.leads
        self.texted_leads += other.texted_leads
        self.replied_leads += other.replied_leads
        self.by_status.update(other.by_status)
        self.by_source.update(other.by_source)
        self.booked_by_source.update(other.booked_by_source)
        for day, counts in other.days.items():
            self.days[day].update(counts)


def _in(values: list[str]) -> str:
    return ", ".join("{}" for _ in values)


async def numbers(db: Database, businesses: list[str], since: datetime) -> dict[str, Numbers]:
    """Each business's numbers for calls and leads since ``since``."""
    out = {slug: Numbers() for slug in businesses}
    if not businesses:
        return out
    marks = _in(businesses)
    calls = await db.fetch(
        Sql(
            "SELECT c.business, c.lead_id, c.outcome, c.at FROM hub_call c"
            f" WHERE c.business IN ({marks}) AND c.at >= {{}} ORDER BY c.at LIMIT {{}}"
        ).bind(db.dialect, *businesses, since, MAX_ROWS)
    )
    texts = await db.fetch(
        Sql(
            "SELECT m.business, m.lead_id, m.direction, m.purpose, m.status, m.created_at"
            f" FROM hub_message m WHERE m.business IN ({marks}) AND m.created_at >= {{}}"
            " ORDER BY m.id LIMIT {}"
        ).bind(db.dialect, *businesses, since, MAX_ROWS)
    )
    leads = await db.fetch(
        Sql(
            "SELECT l.business, l.status, l.source, l.created_at FROM hub_lead l"
            f" WHERE l.business IN ({marks}) AND l.created_at >= {{}} LIMIT {{}}"
        ).bind(db.dialect, *businesses, since, MAX_ROWS)
    )
    first_missed: dict[int, datetime] = {}
    for row in calls:
        n, at = out[row["business"]], _timestamp(row["at"])
        assert at is not None
        n.calls += 1
        n.days[at.date()]["calls"] += 1
        if row["outcome"] != "answered":
            n.missed += 1
            n.days[at.date()]["missed"] += 1
            if row["lead_id"] is not None:
                first_missed.setdefault(int(row["lead_id"]), at)
    texted: dict[str, set[int]] = defaultdict(set)
    replied: dict[str, set[int]] = defaultdict(set)
    timed: set[int] = set()
    for row in texts:
        n, lead_id = out[row["business"]], row["lead_id"]
        if row["direction"] == "in":
            if lead_id is not None:
                replied[row["business"]].add(int(lead_id))
            continue
        if row["purpose"] != "text_back" or row["status"] == "failed":
            continue
        n.text_backs += 1
        if lead_id is None:
            continue
        texted[row["business"]].add(int(lead_id))
        called = first_missed.get(int(lead_id))
        sent = _timestamp(row["created_at"])
        if called is not None and sent is not None and int(lead_id) not in timed:
            timed.add(int(lead_id))
            n.delays.append(max(0.0, (sent - called).total_seconds()))
    for slug in businesses:
        out[slug].texted_leads = len(texted[slug])
        out[slug].replied_leads = len(texted[slug] & replied[slug])
    for row in leads:
        n, at = out[row["business"]], _timestamp(row["created_at"])
        n.leads += 1
        n.by_status[str(row["status"])] += 1
        source = str(row["source"] or "")
        n.by_source[source] += 1
        if row["status"] == "booked":
            n.booked_by_source[source] += 1
        if at is not None:
            n.days[at.date()]["leads"] += 1
    return out
