"""The JSON API, ``/api/v1``: leads for Zapier, Make, n8n or a script, behind bearer tokens
scoped to businesses (``hub tokens create``). ``api_app`` builds it for one hub; ``hub.web``
mounts it after the webhook route, so webhooks never pass through it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.api.auth import Authenticator
from hub.api.errors import ApiError, error_response
from hub.api.leads import LeadsApi
from hub.api.openapi import document
from hub.ratelimit import RateLimit
from hub.request_body import client_gone

if TYPE_CHECKING:
    from hub.runtime import Hub

__all__ = ["api_app"]

_CODES = {404: "not_found", 405: "method_not_allowed"}


def api_app(hub: Hub) -> Starlette:
    limit = RateLimit(
        hub.config.api.requests_per_minute, 60.0, clock=lambda: hub.clock.now_ms() / 1000
    )
    leads = LeadsApi(hub, Authenticator(hub.config.businesses, limit))

    async def openapi(request: Request) -> Response:
        return JSONResponse(document(hub.config.public_url))

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _CODES.get(exc.status_code, "error")
        message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
        return error_response(exc.status_code, code, message, exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(500, "internal", "the hub could not answer; try again later")

    return Starlette(
        routes=[
            Route("/leads", leads.list, methods=["GET"]),
            Route("/leads/{lead_id:int}", leads.get, methods=["GET"]),
            Route("/leads/{lead_id:int}", leads.patch, methods=["PATCH"]),
            Route("/leads/{lead_id:int}/messages", leads.reply, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            ClientDisconnect: client_gone,
            Exception: server_error,
        },
    )
