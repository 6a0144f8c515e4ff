"""What every dashboard page shares: the hub, the page renderer, the sign-in limit."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hub.dashboard.auth import AddressLimit
from hub.dashboard.csrf import csrf_token
from hub.runtime import Hub


class Dashboard:
    """What the dashboard's pages share: the hub, the page renderer, the sign-in limit."""

    def __init__(
        self, hub: Hub, *, poll_interval: float | None = None, stream_for: float = 300.0
    ) -> None:
        self.hub = hub
        self.limit = AddressLimit()
        #: How often ``/events`` looks for news (by default as often as the worker looks for
        #: jobs, at most every 2 s), and how long one stream lasts before the browser
        #: reconnects (so a stream never outlives a deploy by much).
        self.poll_interval = poll_interval or min(2.0, hub.config.worker.poll_interval)
        self.stream_for = stream_for

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        template = self.hub.templates.env.get_template(f"web/{name}")
        user = request.scope.get("user")
        flash = request.session.pop("flash", None) if "session" in request.scope else None
        body = template.render(
            request=request,
            user=user,
            csrf=csrf_token(request),
            flash=flash,
            businesses=self.hub.config.businesses,
            **context,
        )
        return HTMLResponse(body, status)
