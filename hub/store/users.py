"""Dashboard users: who they are, what they may see, and their sign-in attempts.

Passwords are hashed with argon2id (``pwdlib``); the hash never leaves this module except in
the row. Five failed sign-ins in a row lock an account for fifteen minutes, counted in the
database so every web process agrees.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from tortoise.expressions import F

from hub.models import User

#: Failed sign-ins in a row that lock an account, and for how long.
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
#: Bounds on what a person types, so hashing cannot be made to work on megabytes.
MIN_PASSWORD = 8
MAX_PASSWORD = 256

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}$")
_HASHER = PasswordHash((Argon2Hasher(),))
#: Verified against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class Role(enum.StrEnum):
    ADMIN = "admin"
    OWNER = "owner"
    STAFF = "staff"


class UserError(Exception):
    """A user that cannot be added or changed as asked (bad email, short password...)."""


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as the dashboard and the CLI see them: never the password hash."""

    id: int
    email: str
    role: Role
    businesses: tuple[str, ...]
    session_epoch: int
    locked_until: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def manages_users(self) -> bool:
        return self.role in (Role.ADMIN, Role.OWNER)

    def may_see(self, business: str) -> bool:
        return self.is_admin or business in self.businesses

    def visible(self, all_businesses: Iterable[str]) -> list[str]:
        """The slugs of ``all_businesses`` this user may see, in their order."""
        return [slug for slug in all_businesses if self.may_see(slug)]


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        role=Role(user.role),
        businesses=tuple(user.businesses or ()),
        session_epoch=user.session_epoch,
        locked_until=user.locked_until,
    )


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise UserError("not an email address")
    return email


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters long")


async def add(email: str, password: str, role: Role, businesses: Iterable[str] = ()) -> UserView:
    email = normalize_email(email)
    _check_password(password)
    slugs = sorted(set(businesses))
    if role != Role.ADMIN and not slugs:
        raise UserError(f"an {role} needs at least one --business")
    if await User.exists(email=email):
        raise UserError(f"{email} already has an account")
    user = await User.create(
        email=email, password_hash=_HASHER.hash(password), role=str(role), businesses=slugs
    )
    return _view(user)


async def all_users() -> list[UserView]:
    return [_view(user) for user in await User.all().order_by("email")]


async def get(user_id: int) -> UserView | None:
    user = await User.get_or_none(id=user_id)
    return _view(user) if user else None


async def remove(email: str) -> bool:
    return await User.filter(email=normalize_email(email)).delete() > 0


async def set_password(email: str, password: str) -> bool:
    """A new password; sessions signed for the old one end. ``False``: no such user."""
    _check_password(password)
    user = await User.get_or_none(email=normalize_email(email))
    if user is None:
        return False
    user.password_hash = _HASHER.hash(password)
    user.session_epoch += 1
    user.failed_logins = 0
    user.locked_until = None
    await user.save(
        update_fields=["password_hash", "session_epoch", "failed_logins", "locked_until"]
    )
    return True


@dataclass(frozen=True, slots=True)
class SignIn:
    """How a sign-in went: ``user`` when it worked, else ``locked_until`` if locked."""

    user: UserView | None
    locked_until: datetime | None = None


async def sign_in(email: str, password: str, now: datetime) -> SignIn:
    """Check ``email`` and ``password``, counting failures toward the account's lock. A locked
    account is refused without looking at the password, so guessing gets nowhere."""
    try:
        email = normalize_email(email)
    except UserError:
        email = ""
    user = await User.get_or_none(email=email) if email else None
    if user is None or len(password) > MAX_PASSWORD:
        _HASHER.verify("x", _DUMMY_HASH)
        return SignIn(None)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, user.locked_until)
    valid, new_hash = _HASHER.verify_and_update(password, user.password_hash)
    if not valid:
        # Counted in the database (an increment, not a read-then-write), so two processes
        # counting at once cannot lose a failure.
        await User.filter(id=user.id).update(failed_logins=F("failed_logins") + 1)
        counted = await User.get_or_none(id=user.id)
        if counted is not None and counted.failed_logins >= MAX_FAILURES:
            locked = now + LOCK_FOR
            await User.filter(id=user.id).update(failed_logins=0, locked_until=locked)
            return SignIn(None, locked)
        return SignIn(None)
    updates: dict[str, object] = {"failed_logins": 0, "locked_until": None}
    if new_hash:
        updates["password_hash"] = new_hash
    await User.filter(id=user.id).update(**updates)
    return SignIn(_view(user))


__all__ = [
    "LOCK_FOR",
    "MAX_FAILURES",
    "Role",
    "SignIn",
    "UserError",
    "UserView",
    "add",
    "all_users",
    "get",
    "normalize_email",
    "remove",
    "set_password",
    "sign_in",
]
