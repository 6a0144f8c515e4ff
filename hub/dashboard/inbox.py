"""The inbox (``/``), its CSV export (``/leads.csv``), live news (``/events``) and the
setup page (``/setup``, admins only)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hub.dashboard.auth import admin_only, signed_in
from hub.dashboard.filters import read_query
from hub.store.users import UserView

if TYPE_CHECKING:
    from hub.dashboard.site import Dashboard

PAGE = 50
#: Rows one export holds at most.
CSV_ROWS = 10_000
#: A cell a spreadsheet would read as a formula starts with one of these.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def routes(dash: Dashboard) -> list[Route]:
    hub = dash.hub

    async def index(request: Request, user: UserView) -> Response:
        query = read_query(request.query_params, user, hub.config.businesses, hub.clock.now())
        cursor = request.query_params.get("cursor") or None
        try:
            page = await hub.reads.leads(query.where, limit=PAGE, cursor=cursor)
        except ValueError:
            raise HTTPException(400, "not a page of this inbox") from None
        last = await hub.reads.last_messages([lead.id for lead in page.leads])
        older = None
        if page.cursor:
            older = "/?" + urlencode({**{k: v for k, v in query.values.items() if v},
                                      "cursor": page.cursor})  # fmt: skip
        return dash.page(
            request, "inbox.html", leads=page.leads, last=last, older=older,
            query=query.values, visible=user.visible(hub.config.businesses),
            export="/leads.csv" + (f"?{request.url.query}" if request.url.query else ""),
        )  # fmt: skip

    async def export(request: Request, user: UserView) -> Response:
        query = read_query(request.query_params, user, hub.config.businesses, hub.clock.now())
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["id", "business", "caller", "name", "service", "zip", "urgency", "status",
             "last message", "last activity", "created"]
        )  # fmt: skip
        cursor: str | None = None
        rows = 0
        while rows < CSV_ROWS:
            page = await hub.reads.leads(query.where, limit=500, cursor=cursor)
            last = await hub.reads.last_messages([lead.id for lead in page.leads])
            for lead in page.leads:
                message = last.get(lead.id)
                writer.writerow(
                    csv_cell(value)
                    for value in (
                        lead.id, lead.business, lead.caller, lead.name, lead.service, lead.zip,
                        lead.urgency, lead.status, message.body if message else None,
                        lead.updated_at.isoformat() if lead.updated_at else None,
                        lead.created_at.isoformat() if lead.created_at else None,
                    )
                )  # fmt: skip
            rows += len(page.leads)
            cursor = page.cursor
            if cursor is None:
                break
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
        )

    async def events(request: Request, user: UserView) -> Response:
        """Server-sent events: ``lead`` with ``{"id": N}`` whenever a lead the user may see
        changes or gets a text. Polls the database, so news from another process (the
        worker, another web process) arrives too."""
        visible = frozenset(user.visible(hub.config.businesses))
        only: int | None = None
        if request.query_params.get("lead"):
            try:
                only = int(request.query_params["lead"])
            except ValueError:
                raise HTTPException(400, "lead is a number") from None
            view = await hub.reads.lead(only)
            if view is None or view.business not in visible:
                raise HTTPException(404)
        mark = await hub.reads.activity_mark(visible)

        async def stream() -> AsyncIterator[str]:
            nonlocal mark
            yield "retry: 3000\n\n"
            ends = time.monotonic() + dash.stream_for
            while time.monotonic() < ends:
                if await request.is_disconnected():
                    return
                changed, mark = await hub.reads.activity_since(visible, mark)
                for lead_id in changed:
                    if only is None or lead_id == only:
                        yield f"event: lead\ndata: {json.dumps({'id': lead_id})}\n\n"
                yield ": alive\n\n"
                await asyncio.sleep(dash.poll_interval)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def setup(request: Request, user: UserView) -> Response:
        hooks = {
            slug: [
                (
                    provider.name,
                    sorted(getattr(route, "methods", None) or ["ANY"]),
                    provider.context.webhook_url(getattr(route, "path", "")),
                )
                for provider in providers.all()
                for route in provider.routes()
            ]
            for slug, providers in hub.providers.items()
        }
        return dash.page(request, "setup.html", hooks=hooks, plugins=hub.plugins)

    return [
        Route("/", signed_in(index)),
        Route("/leads.csv", signed_in(export)),
        Route("/events", signed_in(events)),
        Route("/setup", admin_only(setup)),
    ]


__all__ = ["csv_cell", "routes"]
