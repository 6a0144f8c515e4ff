"""``/forms/{business}``: the public web form of a business that has ``forms:`` in hub.yaml.

Anyone may post it (no sign-in, no CSRF token: it lives on the business's own site), so it is
guarded instead: the ``Origin`` a browser sends must be one of the business's
``allowed_origins`` (or the hub's own), each address gets ``per_ip_per_hour`` posts, the body
is read only up to 64 KiB, a hidden ``website`` field catches bots (they fill every field;
they get the thank-you and nothing is stored), and anything malformed is a 4xx that names
the problem. What passes becomes a lead through ``hub.forms``. ``/forms/{business}/embed``
gives the HTML to paste into the site, and ``/forms/hub-form.js`` the small script that posts
it without leaving the page.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hub.config import Business
from hub.forms import FormSubmission
from hub.phone import caller_number
from hub.ratelimit import RateLimit
from hub.request_body import BodyTooLarge, read_limited

if TYPE_CHECKING:
    from hub.runtime import Hub

MAX_BODY = 64 * 1024
HONEYPOT = "website"
SCRIPT = "web/hub-form.js"
#: Each field's longest accepted value.
LIMITS = {
    "name": 128, "phone": 32, "email": 254, "service": 128, "zip": 16, "message": 2000,
    "callback": 128, "consent": 8, HONEYPOT: 256,
}  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ZIP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
_YES = frozenset({"on", "yes", "true", "1"})
_NO = frozenset({"", "off", "no", "false", "0"})


class FormError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


class WebForms:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._limits: dict[str, RateLimit] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/forms/hub-form.js", self.script, methods=["GET"]),
            Route("/forms/{business}", self.submit, methods=["POST"]),
            Route("/forms/{business}", self.preflight, methods=["OPTIONS"]),
            Route("/forms/{business}/embed", self.embed, methods=["GET"]),
        ]

    # -- the guards -------------------------------------------------------------------------------

    def _business(self, request: Request) -> Business:
        business = self.hub.config.businesses.get(request.path_params["business"])
        if business is None or business.forms is None:
            raise FormError(404, "not_found", "no such form")
        return business

    def _origin_allowed(self, business: Business, origin: str) -> bool:
        assert business.forms is not None
        own = urlsplit(self.hub.config.public_url)
        return origin.lower() in (*business.forms.allowed_origins, f"{own.scheme}://{own.netloc}")

    def _check_origin(self, business: Business, request: Request) -> dict[str, str]:
        """The CORS headers for an allowed ``Origin``; ``FormError`` for another. No header
        (a plain HTML post from an old browser, curl, a server) is allowed."""
        origin = request.headers.get("origin")
        if origin is None:
            return {}
        if not self._origin_allowed(business, origin):
            raise FormError(403, "origin_not_allowed", "this site may not post this form")
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def _check_rate(self, business: Business, request: Request) -> None:
        assert business.forms is not None
        limit = self._limits.get(business.slug)
        if limit is None:
            limit = self._limits[business.slug] = RateLimit(
                business.forms.per_ip_per_hour, 3600.0, clock=lambda: self.hub.clock.now_ms() / 1000
            )
        address = request.client.host if request.client else "unknown"
        wait = limit.hit(address)
        if wait is not None:
            raise FormError(
                429, "rate_limited", "too many requests from this address; try again later",
                headers={"Retry-After": str(int(wait))},
            )  # fmt: skip

    # -- routes -----------------------------------------------------------------------------------

    async def preflight(self, request: Request) -> Response:
        try:
            business = self._business(request)
            headers = self._check_origin(business, request)
        except FormError as exc:
            return Response(status_code=exc.status)
        return Response(
            status_code=204,
            headers={
                **headers,
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type, Accept",
                "Access-Control-Max-Age": "600",
            },
        )

    async def submit(self, request: Request) -> Response:
        wants_json = _wants_json(request)
        cors: dict[str, str] = {}
        try:
            business = self._business(request)
            cors = self._check_origin(business, request)
            self._check_rate(business, request)
            data = await _read_form(request)
            if data.get(HONEYPOT):
                return self._thanks(business, None, wants_json, cors)  # a bot: tell it nothing
            submission = _submission(business, data)
            await self.hub.forms.submit(business, submission)
        except FormError as exc:
            return self._error(exc, wants_json, cors)
        return self._thanks(business, submission.name, wants_json, cors)

    async def embed(self, request: Request) -> Response:
        try:
            business = self._business(request)
        except FormError as exc:
            return self._error(exc, False, {})
        action = f"{self.hub.config.public_url}/forms/{business.slug}"
        script = f"{self.hub.config.public_url}/forms/hub-form.js"
        form = self._page("web/form_snippet.html", business=business, action=action, script=script)
        return HTMLResponse(self._page("web/form_embed.html", business=business, snippet=form))

    async def script(self, request: Request) -> Response:
        loader = self.hub.templates.env.loader
        assert loader is not None
        source, _, _ = loader.get_source(self.hub.templates.env, SCRIPT)
        return Response(
            source,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
        )

    # -- answers ----------------------------------------------------------------------------------

    def _thanks(
        self, business: Business, name: str | None, wants_json: bool, cors: dict[str, str]
    ) -> Response:
        message = f"Thanks! {business.name} has your request and will be in touch soon."
        if wants_json:
            return JSONResponse({"status": "received", "message": message}, headers=cors)
        page = self._page("web/form_thank_you.html", business=business, name=name)
        return HTMLResponse(page, headers=cors)

    def _error(self, exc: FormError, wants_json: bool, cors: dict[str, str]) -> Response:
        headers = {**cors, **exc.extra.get("headers", {})}
        fields = exc.extra.get("fields", {})
        if wants_json:
            body = {"error": {"status": exc.status, "code": exc.code, "message": exc.message}}
            if fields:
                body["error"]["fields"] = fields
            return JSONResponse(body, status_code=exc.status, headers=headers)
        page = self._page("web/form_error.html", message=exc.message, fields=fields)
        return HTMLResponse(page, status_code=exc.status, headers=headers)

    def _page(self, template: str, **context: Any) -> str:
        """A page of the hub's own (autoescaped: ``.html``), never a business's text override
        that happens to share its name."""
        return self.hub.templates.env.get_template(template).render(**context)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return True
    return request.headers.get("content-type", "").startswith("application/json")


async def _read_form(request: Request) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "application/json"):
        raise FormError(415, "unsupported_media_type", "post the form as a form or as JSON")
    try:
        raw = await read_limited(request, MAX_BODY)
    except BodyTooLarge as exc:
        raise FormError(413, "too_large", str(exc)) from None
    try:
        text = raw.decode("utf-8")
        if kind == "application/json":
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError("not an object")
            pairs = [(str(k), v) for k, v in value.items()]
        else:
            pairs = list(parse_qsl(text, keep_blank_values=True, max_num_fields=64))
    except (ValueError, RecursionError):  # also UnicodeDecodeError, JSONDecodeError, deep nesting
        raise FormError(400, "malformed", "the form could not be read") from None
    data: dict[str, str] = {}
    for key, value in pairs:
        if isinstance(value, bool):
            value = "on" if value else ""
        if not isinstance(value, str | int):
            raise FormError(400, "malformed", f"{key[:32]} is not text")
        data.setdefault(key, str(value).strip())
    return data


def _submission(business: Business, data: dict[str, str]) -> FormSubmission:
    problems: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(data.get(name, "")) > limit:
            problems[name] = f"is longer than {limit} characters"

    def given(name: str) -> str | None:
        return data.get(name) or None if name not in problems else None

    phone = caller_number(given("phone"), business.region) if given("phone") else None
    if phone is None and "phone" not in problems:
        problems["phone"] = "is required" if not given("phone") else "is not a phone number"
    email = given("email")
    if email and not _EMAIL.match(email):
        problems["email"] = "is not an email address"
    zip_code = given("zip")
    if zip_code and not _ZIP.match(zip_code):
        problems["zip"] = "is not a ZIP code"
    consent = data.get("consent", "").lower()
    if consent not in _YES | _NO:
        problems["consent"] = "is a checkbox: on or absent"
    if problems:
        raise FormError(
            422, "invalid", "please check: " + ", ".join(sorted(problems)), fields=problems
        )
    assert phone is not None
    return FormSubmission(
        phone=phone,
        name=given("name"),
        email=email,
        service=given("service"),
        zip=zip_code,
        message=given("message"),
        callback=given("callback"),
        consent=consent in _YES,
    )
