"""Sign-in and sign-out, who is signed in, and the per-address limit on failed sign-ins.

The session cookie (``SessionMiddleware``, signed with ``secret_key``) holds only the user's
id and their password's epoch: a new password ends every older session. The account lock
(five failures, fifteen minutes) lives in the database; the per-address limit is counted in
this process, which is enough to slow one address spraying many accounts.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.store import users
from hub.store.users import UserView

log = logging.getLogger("hub.dashboard")

#: Failed sign-ins one address may make in ``IP_WINDOW`` seconds.
IP_FAILURES = 20
IP_WINDOW = 15 * 60.0
#: Addresses remembered at most, so a flood of addresses cannot grow memory without bound.
_MAX_ADDRESSES = 10_000

Handler = Callable[[Request], Awaitable[Response]]
UserHandler = Callable[[Request, UserView], Awaitable[Response]]


class AddressLimit:
    """Failed sign-ins per client address in a sliding window."""

    def __init__(self, limit: int = IP_FAILURES, window: float = IP_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        now = time.monotonic()
        times = self._failures.setdefault(address, deque())
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        return len(self._recent(address)) >= self.limit

    def fail(self, address: str) -> None:
        if len(self._failures) >= _MAX_ADDRESSES and address not in self._failures:
            self._failures.pop(next(iter(self._failures)))
        self._recent(address).append(time.monotonic())


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_user(request: Request) -> UserView | None:
    """The signed-in user, or ``None`` (no session, a removed user, an older password)."""
    if "user" in request.scope:
        cached: UserView | None = request.scope["user"]
        return cached
    user: UserView | None = None
    uid, epoch = request.session.get("uid"), request.session.get("epoch")
    if isinstance(uid, int) and isinstance(epoch, int):
        found = await users.get(uid)
        if found is not None and found.session_epoch == epoch:
            user = found
    request.scope["user"] = user
    return user


def signed_in(handler: UserHandler) -> Handler:
    """A page for signed-in users: others go to ``/login`` (or get 401 for non-GET)."""

    async def page(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", 303)
            raise HTTPException(401, "sign in first")
        return await handler(request, user)

    return page


def admin_only(handler: UserHandler) -> Handler:
    async def page(request: Request, user: UserView) -> Response:
        if not user.is_admin:
            raise HTTPException(404)
        return await handler(request, user)

    return signed_in(page)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def start_session(request: Request, user: UserView) -> None:
    # A fresh session on sign-in: nothing from before (a planted token) carries over.
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch})


async def check_sign_in(
    request: Request, email: str, password: str, now: datetime, limit: AddressLimit
) -> tuple[UserView | None, str | None]:
    """The user these credentials name, or why not (the same words whichever was wrong)."""
    address = client_address(request)
    if limit.blocked(address):
        return None, "Too many failed sign-ins from here. Try again later."
    result = await users.sign_in(email, password, now)
    if result.user is not None:
        return result.user, None
    limit.fail(address)
    log.info("failed sign-in from %s", address)
    if result.locked_until is not None:
        return None, "Too many failed sign-ins for this account. Try again in 15 minutes."
    return None, "That email and password do not match."
