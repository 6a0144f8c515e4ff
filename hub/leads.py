"""Leads as the domain sees them: finding a job's lead, and the changes people make."""

from __future__ import annotations

from collections.abc import Mapping

from hub.clock import Clock
from hub.config import Business
from hub.jobs import Discard
from hub.keys import reminder_keys
from hub.models import Lead, LeadStatus
from hub.store import leads as lead_rows
from hub.store.db import Database, UnitOfWork
from hub.store.jobs import JobQueue
from hub.store.leads import LeadError

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
    """Changes to a lead from outside a conversation (the CLI, call-backs; next the dashboard
    and the API), through ``hub.store.leads.change_lead``."""

    def __init__(self, db: Database, jobs: JobQueue, clock: Clock) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock

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
        at = self.clock.now()
        await uow.run(self.jobs.cancel(reminder_keys(lead.id), now_ms=self.clock.now_ms()))
        change = await lead_rows.change_lead(uow, lead, at=at, actor=actor, status=status)
        return change is not None
