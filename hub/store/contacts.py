"""What the hub knows of a person: opt-outs, and whether their number takes texts."""

from __future__ import annotations

import hashlib
from datetime import datetime

from tortoise.exceptions import IntegrityError

from hub.models import Contact, InboxEvent, OptOut
from hub.store.db import UnitOfWork
from hub.store.errors import Duplicate
from hub.types import RecipientIssue


async def opt_out(
    uow: UnitOfWork,
    business: str,
    phone: str,
    *,
    source: str,
    at: datetime,
    detail: str | None = None,
) -> bool:
    """Record that ``phone`` asked ``business`` to stop texting; ``False`` if it already had."""
    tx = uow.connection
    existing = await OptOut.get_or_none(business=business, phone=phone, using_db=tx)
    if existing is None:
        await OptOut.create(
            business=business,
            phone=phone,
            source=source,
            detail=detail,
            opted_out_at=at,
            using_db=tx,
        )
        return True
    if existing.active:
        return False
    existing.active, existing.source, existing.detail = True, source, detail
    existing.opted_out_at, existing.opted_in_at = at, None
    await existing.save(using_db=tx)
    return True


async def opt_in(uow: UnitOfWork, business: str, phone: str, *, at: datetime) -> bool:
    """Lift an opt-out; ``False`` if there was none."""
    record = await OptOut.get_or_none(
        business=business, phone=phone, active=True, using_db=uow.connection
    )
    if record is None:
        return False
    record.active, record.opted_in_at = False, at
    await record.save(using_db=uow.connection)
    return True


async def reachability(business: str, phone: str) -> RecipientIssue | None:
    """Why ``business`` must not text ``phone``: they opted out, or cannot receive texts."""
    if await OptOut.exists(business=business, phone=phone, active=True):
        return RecipientIssue.OPTED_OUT
    if await Contact.exists(business=business, phone=phone, can_receive_sms=False):
        return RecipientIssue.CANNOT_RECEIVE
    return None


async def cannot_receive(uow: UnitOfWork, business: str, phone: str) -> None:
    await (
        Contact.filter(business=business, phone=phone)
        .using_db(uow.connection)
        .update(can_receive_sms=False)
    )


async def set_language(uow: UnitOfWork, business: str, phone: str, language: str) -> None:
    """Remember the language a caller writes in: texts to them follow it."""
    await (
        Contact.filter(business=business, phone=phone)
        .using_db(uow.connection)
        .update(language=language)
    )


def _scoped(business: str, key: str) -> str:
    """An inbox key within one business: event ids and marks come from outside (any business
    can send any id), so one business's events never dedupe or mark another's. Keys too long
    for the column are hashed whole rather than cut, so two long keys never collide."""
    scoped = f"{business}:{key}"
    if len(scoped) <= 255:
        return scoped
    return f"{business[:120]}:sha256:{hashlib.sha256(scoped.encode()).hexdigest()}"


async def record_event(uow: UnitOfWork, business: str, provider: str, event_key: str) -> None:
    """Note a provider event as acted on; ``Duplicate`` if it already was (a retried webhook)."""
    key = _scoped(business, event_key)
    try:
        await InboxEvent.create(provider=provider, event_key=key, using_db=uow.connection)
    except IntegrityError as exc:
        raise Duplicate(key) from exc


async def has_event(business: str, provider: str, event_key: str) -> bool:
    key = _scoped(business, event_key)
    return await InboxEvent.filter(provider=provider, event_key=key).exists()


async def mark(business: str, provider: str, key: str) -> bool:
    """A plugin's once-only mark for one business: ``True`` the first time only (a unique row
    decides)."""
    try:
        await InboxEvent.create(provider=provider, event_key=_scoped(business, f"mark:{key}"))
    except IntegrityError:
        return False
    return True


async def is_marked(business: str, provider: str, key: str) -> bool:
    return await has_event(business, provider, f"mark:{key}")


async def line_type(business: str, phone: str, *, since: datetime) -> str | None:
    """The line type a sender looked up for ``phone`` at ``since`` or later."""
    contact = await Contact.get_or_none(business=business, phone=phone)
    if contact is None or contact.line_type is None or contact.line_type_checked_at is None:
        return None
    return contact.line_type if contact.line_type_checked_at >= since else None


async def remember_line_type(business: str, phone: str, line_type: str, *, at: datetime) -> None:
    await Contact.filter(business=business, phone=phone).update(
        line_type=line_type[:32], line_type_checked_at=at
    )
