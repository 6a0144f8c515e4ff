"""The web app: provider webhooks, health checks, and the dashboard (``hub.dashboard``).

Each business's providers mount their own routes under ``/hooks/{business}/{plugin}/``. The
dispatch is a dictionary lookup, not a route list scan, so an agency with thousands of client
businesses pays nothing per business on each webhook.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Mount, Route, Router
from starlette.types import Message, Receive, Scope, Send

from hub.api import api_app
from hub.api.errors import error_response
from hub.exceptions import Refused
from hub.metrics import allowed
from hub.request_body import BodyLimit, BodyTooLarge, client_gone, too_large
from hub.runtime import Hub
from hub.webforms import WebForms

log = logging.getLogger("hub.web")

#: Scope key holding a webhook's path within the hub app; ``ProviderContext`` rebuilds the
#: public URL from it and ``public_url``.
ROUTE_PATH = "hub.route_path"


class HookDispatcher:
    """ASGI app for ``/hooks/{business}/{plugin}/...``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._routers: dict[tuple[str, str], Router] = {}

    def router(self, business: str, plugin: str) -> Router | None:
        key = (business, plugin)
        if key not in self._routers:
            providers = self.hub.providers.get(business)
            named = [p for p in providers.all() if p.name == plugin] if providers else []
            if not named:
                return None
            routes = [route for p in named for route in p.routes()]
            self._routers[key] = Router(routes=routes)
        return self._routers[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500  # what a webhook that raised before answering is counted as

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        params = scope["path_params"]
        router = self.router(params["business"], params["plugin"])
        route = "unmatched"
        try:
            if router is None:
                response = PlainTextResponse("no such business or plugin", status_code=404)
                await response(scope, receive, counting)
                return
            prefix = f"/hooks/{params['business']}/{params['plugin']}"
            root = scope.get("root_path", "")
            child = dict(scope)
            child["root_path"] = root + prefix
            child[ROUTE_PATH] = prefix + "/" + params["rest"]
            route = _template(router, child, params["plugin"])
            await router(child, receive, counting)
        except (HTTPException, Refused) as exc:  # the app's handlers answer these
            status = exc.status_code
            raise
        except BodyTooLarge:
            status = 413
            raise
        except ClientDisconnect:
            status = 400
            raise
        finally:
            self.hub.metrics.webhooks.labels(route, str(status)).inc()


def _template(router: Router, scope: Scope, plugin: str) -> str:
    """The webhook's route as a label: its template, never the path itself (the business's
    slug and whatever a caller typed would make a label per request)."""
    for route in router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL and isinstance(route, Route):
            return f"/hooks/{{business}}/{plugin}{route.path}"
    return "unmatched"


def body_too_large_answer(path: str, limit: int) -> Response:
    if path.startswith("/api/"):
        return error_response(413, "too_large", f"the body is larger than {limit // 1024} KiB")
    return too_large(limit)


def create_app(hub: Hub, *, dashboard: dict[str, Any] | None = None) -> Starlette:
    """The ASGI app for one hub; its lifespan starts and stops the hub. ``dashboard``:
    options for ``hub.dashboard.create_dashboard`` (how often ``/events`` polls...)."""
    from hub.dashboard import create_dashboard

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    ready = False

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        nonlocal ready
        try:
            await hub.db.ping()
            if not ready:
                pending = await hub.db.pending_migrations()
                if pending:
                    return JSONResponse({"status": "migrations pending", "pending": pending}, 503)
                ready = True
        except Exception as exc:
            log.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "database unreachable"}, 503)
        return JSONResponse({"status": "ready"})

    async def body_too_large(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BodyTooLarge)
        log.warning("refused %s %s: %s", request.method, request.url.path, exc)
        return body_too_large_answer(request.url.path, exc.limit)

    settings = hub.config.metrics
    token = settings.token.get_secret_value().encode() if settings.token else None

    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        bearer = given[7:].strip().encode() if given.lower().startswith("bearer ") else b""
        by_token = token is not None and hmac.compare_digest(bearer, token)
        client = request.client.host if request.client else None
        if not by_token and not allowed(client, settings.allow):
            return PlainTextResponse("forbidden", status_code=403)
        body = await hub.metrics.render(hub.db, now_ms=hub.clock.now_ms())
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        log.warning("refused %s %s: %s", request.method, request.url.path, exc.reason)
        return PlainTextResponse(exc.reason, status_code=exc.status_code)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *([Route("/metrics", metrics)] if settings.enabled else []),
            Route("/hooks/{business}/{plugin}/{rest:path}", HookDispatcher(hub)),
            # After the webhooks: a webhook never walks the routes below.
            *WebForms(hub).routes(),
            Mount("/api/v1", app=api_app(hub)),
            # Everything else is the dashboard, with its own session and CSRF middleware.
            Mount("", app=create_dashboard(hub, **(dashboard or {}))),
        ],
        exception_handlers={
            Refused: refused,
            BodyTooLarge: body_too_large,
            ClientDisconnect: client_gone,
        },
        # Every route, a plugin's too: a body is cut off at 64 KiB, as it streams in.
        middleware=[Middleware(BodyLimit, answer=body_too_large_answer)],
        lifespan=lifespan,
    )
