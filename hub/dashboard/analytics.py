"""Numbers (``/analytics``): per business and rolled up, by day and by week, and the
businesses that most need attention (most missed calls left without a reply)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.dashboard.auth import signed_in
from hub.store.numbers import Numbers
from hub.store.users import UserView

if TYPE_CHECKING:
    from hub.dashboard.site import Dashboard

PERIODS = {"7": 7, "30": 30, "90": 90}


def attention_score(numbers: Numbers) -> float:
    """Worse is higher: missed calls not texted back, then a low reply rate."""
    untexted = max(0, numbers.missed - numbers.text_backs)
    new = numbers.by_status.get("new", 0)
    return untexted * 2 + new + (1 - (numbers.reply_rate or 0)) * (numbers.missed > 0)


def routes(dash: Dashboard) -> list[Route]:
    hub = dash.hub

    async def analytics(request: Request, user: UserView) -> Response:
        period = request.query_params.get("days", "30")
        if period not in PERIODS:
            raise HTTPException(400, "days is 7, 30 or 90")
        visible = user.visible(hub.config.businesses)
        chosen = request.query_params.get("business") or None
        if chosen is not None and chosen not in visible:
            raise HTTPException(404)
        shown = [chosen] if chosen else visible
        now = hub.clock.now()
        since = (now - timedelta(days=PERIODS[period])).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        per = await hub.reads.numbers(shown, since)
        total = Numbers()
        for numbers in per.values():
            total.add(numbers)
        days = [
            (since + timedelta(days=i)).date() for i in range((now.date() - since.date()).days + 1)
        ]
        worst = sorted(
            (slug for slug in per if attention_score(per[slug]) > 0),
            key=lambda slug: -attention_score(per[slug]),
        )[:5]
        day_rows = [(f"{day:%b %-d}", dict(total.days.get(day, {}))) for day in days]
        week_rows = [(f"{week:%b %-d}", dict(counts)) for week, counts in total.weeks().items()]
        return dash.page(
            request, "analytics.html", per=per, total=total, day_rows=day_rows,
            week_rows=week_rows, period=period, periods=list(PERIODS), chosen=chosen,
            visible=visible, worst=worst,
        )  # fmt: skip

    return [Route("/analytics", signed_in(analytics))]
