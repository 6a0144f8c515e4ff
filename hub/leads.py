"""Leads as the domain sees them: finding a job's lead, and the changes people make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.clock import Clock
from hub.config import Business
from hub.events import EventKind
from hub.jobs import Discard
from hub.keys import reminder_keys
from hub.models import Lead, LeadStatus
from hub.notifications import Notifications
from hub.store import leads as lead_rows
from hub.store.db import Database, UnitOfWork
from hub.store.jobs import JobQueue
from hub.store.leads import LeadChange, LeadError

__all__ = ["LeadError", "LeadStatus", "Leads", "business_for_job", "lead_for_job"]


def business_for_job(businesses: Mapping[str, Business], slug: str) -> Business:
    """The business a job is for; a job for one removed from hub.yaml ends there."""
    business = businesses.get(slug)
    if business is None:
        raise Discard(f"business {slug!r} is no longer configured")
    return business


async def lead_for_job(businesses: Mapping[str, Business], lead_id: int) -> tuple[Lead, Business]:
    lead = await lead_rows.get(lead_id)
    if lead is None:
        raise Discard("the lead no longer exists")
    return lead, business_for_job(businesses, lead.business)


class Leads:
    """Every change of a lead — by a reply, a call-back, the CLI, next the dashboard and the
    API — goes through ``change``: the row, its timeline and its event, in one unit of work."""

    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        businesses: Mapping[str, Business],
        events: Notifications,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock
        self.businesses = businesses
        self.events = events

    async def change(
        self,
        uow: UnitOfWork,
        lead: Lead,
        *,
        actor: str,
        fields: dict[str, Any] | None = None,
        status: LeadStatus | None = None,
        field_actors: dict[str, str] | None = None,
        **detail: Any,
    ) -> LeadChange | None:
        """Change ``lead``'s fields and/or status in ``uow`` (see
        ``hub.store.leads.change_lead``) and emit ``lead.updated`` / ``lead.status_changed``
        with what changed, from what to what, and who changed it."""
        at = self.clock.now()
        change = await lead_rows.change_lead(
            uow, lead, at=at, actor=actor, fields=fields, status=status,
            field_actors=field_actors, **detail,
        )  # fmt: skip
        if change is None:
            return None
        business = business_for_job(self.businesses, lead.business)
        changed = {
            name: [_plain(change.before[name]), _plain(value)]
            for name, value in change.after.items()
        }
        data = {"actor": actor, **{k: v for k, v in detail.items() if k == "message_id"}}
        fields_changed = {name: pair for name, pair in changed.items() if name != "status"}
        cause = f"lead:{lead.id}:v{change.version}"
        if fields_changed:
            await uow.run(
                self.events.emit(
                    business, EventKind.LEAD_UPDATED, lead.id, cause=cause,
                    version=change.version, data={**data, "changes": fields_changed},
                )
            )  # fmt: skip
        if "status" in changed:
            await uow.run(
                self.events.emit(
                    business, EventKind.LEAD_STATUS_CHANGED, lead.id, cause=cause,
                    version=change.version, data={**data, "changes": {"status": changed["status"]}},
                )
            )  # fmt: skip
        return change

    async def note(
        self, business: Business, lead_id: int, text: str, *, url: str | None, actor: str
    ) -> bool:
        """A line on the timeline of ``business``'s lead ``lead_id`` (a plugin's ``note_on_lead``);
        ``False`` if the business has no such lead."""
        lead = await lead_rows.get(lead_id)
        if lead is None or lead.business != business.slug:
            return False
        async with self.db.transaction() as uow:
            await uow.run(
                lead_rows.record(
                    self.db.dialect, lead_id, "note", at=self.clock.now(), actor=actor,
                    text=text[:500], url=url[:2000] if url else None,
                )
            )  # fmt: skip
        return True

    async def set_status_of(
        self, business: Business, lead_id: int, status: str, *, actor: str
    ) -> bool:
        """A plugin's ``set_lead_status``: ``business``'s lead only; ``False`` if the business
        has no such lead or it already had ``status``; ``ValueError`` for an unknown status
        or a reopening the hub refuses."""
        try:
            wanted = LeadStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in LeadStatus)
            raise ValueError(f"unknown lead status {status!r}; known: {known}") from None
        lead = await lead_rows.get(lead_id)
        if lead is None or lead.business != business.slug:
            return False
        try:
            return await self.set_status(lead_id, wanted, actor=actor)
        except LeadError as exc:
            raise ValueError(str(exc)) from None

    async def set_status(
        self, lead_id: int, status: LeadStatus, *, actor: str, uow: UnitOfWork | None = None
    ) -> bool:
        """Move a lead to ``status``; ``False`` if it already was. Any change stops the nudge
        and the owner reminder. ``LeadError`` if there is no such lead, or reopening it would
        give the caller a second open lead."""
        if uow is None:
            async with self.db.transaction() as own:
                return await self.set_status(lead_id, status, actor=actor, uow=own)
        lead = await lead_rows.get(lead_id, using=uow.connection)
        if lead is None:
            raise LeadError(f"no lead {lead_id}")
        if lead.status == status:
            return False
        await uow.run(self.jobs.cancel(reminder_keys(lead.id), now_ms=self.clock.now_ms()))
        return await self.change(uow, lead, actor=actor, status=status) is not None


def _plain(value: Any) -> Any:
    """A value as JSON carries it (a callback window's datetimes as ISO text)."""
    return value.isoformat() if hasattr(value, "isoformat") else value
