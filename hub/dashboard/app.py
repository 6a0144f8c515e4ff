"""The dashboard's Starlette app: its routes and middleware."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hub.dashboard import analytics, inbox, lead
from hub.dashboard.auth import check_sign_in, current_user, safe_next, start_session
from hub.dashboard.csrf import CsrfMiddleware
from hub.dashboard.headers import SecurityHeaders
from hub.dashboard.site import Dashboard
from hub.request_body import client_gone
from hub.runtime import Hub

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "hub_session"
SESSION_DAYS = 14


def create_dashboard(hub: Hub, **options: Any) -> Starlette:
    dash = Dashboard(hub, **options)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            if await current_user(request) is not None:
                return RedirectResponse(safe_next(request.query_params.get("next")), 303)
            return dash.page(
                request, "login.html", next=request.query_params.get("next", ""), email="",
                problem=None,
            )  # fmt: skip
        form = await request.form()
        email = str(form.get("email") or "")[:254]
        password = str(form.get("password") or "")
        target = safe_next(str(form.get("next") or ""))
        user, problem = await check_sign_in(request, email, password, hub.clock.now(), dash.limit)
        if user is None:
            return dash.page(
                request, "login.html", 401 if "match" in (problem or "") else 429,
                next=target, email=email, problem=problem,
            )  # fmt: skip
        start_session(request, user)
        return RedirectResponse(target, 303)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", 303)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return dash.page(request, "error.html", 404, message="Nothing here.")
        return PlainTextResponse(str(exc.detail), exc.status_code)

    public = hub.config.public_url.startswith("https://")
    secret = hub.config.secret_key.get_secret_value() if hub.config.secret_key else None
    return Starlette(
        routes=[
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            *inbox.routes(dash),
            *lead.routes(dash),
            *analytics.routes(dash),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                # Without a configured key, sessions last as long as this process.
                secret_key=secret or secrets.token_urlsafe(32),
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_DAYS * 24 * 3600,
                same_site="lax",
                https_only=public,
            ),
            Middleware(CsrfMiddleware),
        ],
        exception_handlers={HTTPException: not_found, ClientDisconnect: client_gone},
    )
