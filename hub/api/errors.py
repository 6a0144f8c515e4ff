"""The API's one error shape: ``{"error": {"status": 404, "code": "not_found", "message":
"..."}}``, whatever went wrong, so a client reads every failure the same way."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.headers)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"status": status, "code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def not_found(what: str) -> ApiError:
    """One answer for "does not exist" and "not yours", so guessing ids tells nothing."""
    return ApiError(404, "not_found", f"no {what}")
