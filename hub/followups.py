"""What happens after the first text: nudges, owner reminders, the lead summary, and alerts.

All of it is durable jobs with future ``run_at``s, keyed per lead so they can be cancelled:
a customer who replies, opts out or is called back, or a lead whose status changes, stops the
nudge and the owner reminder (``hub.keys.reminder_keys``).

- The **nudge**: a customer who has not replied after ``nudge_after_hours`` gets one.
- The **owner reminder**: a lead still ``new`` after ``remind_owner_after_hours`` business
  hours.
- The **summary**: one clean notification once the conversation has what the owner needs, or
  once the customer has had ``summary_wait_minutes`` to answer the follow-up question.
- The **urgent alert**: an emergency reply reaches every sink at once, flagged urgent, and the
  owner's phone by SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from hub.clock import Clock, to_ms
from hub.config import Business
from hub.events import EventKind
from hub.jobs import ClaimedJob
from hub.keys import NUDGE, OWNER_ALERT, REMIND_OWNER, SUMMARY
from hub.leads import lead_for_job
from hub.models import LeadStatus
from hub.notifications import Notifications
from hub.store import deliveries, messages
from hub.store.db import Database, UnitOfWork
from hub.store.jobs import JobQueue
from hub.store.messages import SendState
from hub.store.sql import Script
from hub.templating import Templates, sms_template, template_context
from hub.texting import Texting


class FollowUps:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        templates: Templates,
        businesses: Mapping[str, Business],
        texting: Texting,
        notifications: Notifications,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock
        self.templates = templates
        self.businesses = businesses
        self.texting = texting
        self.notifications = notifications

    def schedule(self, business: Business, lead_id: int, status: str) -> Script[None]:
        """After a text-back went out, as a script step: queue the nudge and the owner reminder
        (not due yet: polling finds them)."""
        settings = business.follow_ups
        now = self.clock.now()
        if settings.nudge_after_hours > 0:
            yield from self.jobs.enqueue(
                NUDGE,
                {"lead_id": lead_id},
                run_at_ms=to_ms(now + timedelta(hours=settings.nudge_after_hours)),
                dedupe_key=f"{NUDGE}:lead:{lead_id}",
                business=business.slug,
            )
        if settings.remind_owner_after_hours > 0 and status == LeadStatus.NEW:
            wait = timedelta(hours=settings.remind_owner_after_hours)
            due = business.opening_hours.add_open_time(now, business.timezone, wait) or now + wait
            yield from self.jobs.enqueue(
                REMIND_OWNER,
                {"lead_id": lead_id},
                run_at_ms=to_ms(due),
                dedupe_key=f"{REMIND_OWNER}:lead:{lead_id}",
                business=business.slug,
            )

    async def run_nudge(self, job: ClaimedJob) -> None:
        lead, business = await lead_for_job(self.businesses, job.payload["lead_id"])
        if lead.status != LeadStatus.NEW:
            return
        if await messages.has_inbound(lead.id):
            return  # they replied; the cancellation raced this run
        last = await messages.last_outbound(lead.id)

        def render(state: SendState) -> str:
            name = sms_template("nudge", business, state.language)
            return self.templates.render(name, business, **template_context(name, state.lead))

        await self.texting.send_text(
            job,
            business,
            lead.id,
            purpose=NUDGE,
            body=render,
            source_key=f"{NUDGE}:{lead.id}",
            sender_number=last.business_number if last else None,
        )

    async def run_remind_owner(self, job: ClaimedJob) -> None:
        lead, business = await lead_for_job(self.businesses, job.payload["lead_id"])
        if lead.status != LeadStatus.NEW:
            return
        await self.db.run(
            self.notifications.enqueue(
                business, lead.id, "reminder", {}, cause=f"reminder:{lead.id}"
            )
        )

    async def send_summary(self, uow: UnitOfWork, business: Business, lead_id: int) -> None:
        """The one clean summary of a lead, once."""
        if await deliveries.exists(uow, lead_id, EventKind.NOTIFY_SUMMARY):
            return
        await uow.run(self.jobs.cancel([f"{SUMMARY}:lead:{lead_id}"]))
        await uow.run(
            self.notifications.enqueue(business, lead_id, SUMMARY, {}, cause=f"{SUMMARY}:{lead_id}")
        )

    async def wait_for_answer(self, uow: UnitOfWork, business: Business, lead_id: int) -> None:
        """Send the summary anyway if the follow-up question goes unanswered."""
        due = self.clock.now() + timedelta(minutes=business.follow_ups.summary_wait_minutes)
        await uow.run(
            self.jobs.enqueue(
                SUMMARY,
                {"lead_id": lead_id},
                run_at_ms=to_ms(due),
                dedupe_key=f"{SUMMARY}:lead:{lead_id}",
                business=business.slug,
            )
        )

    async def run_summary(self, job: ClaimedJob) -> None:
        lead, business = await lead_for_job(self.businesses, job.payload["lead_id"])
        async with self.db.transaction() as uow:
            await self.send_summary(uow, business, lead.id)

    async def alert_owner(self, uow: UnitOfWork, business: Business, lead_id: int) -> None:
        """An emergency: every sink at once, flagged urgent, and the owner's phone. Once per
        lead."""
        if await deliveries.exists(uow, lead_id, EventKind.NOTIFY_URGENT):
            return
        await uow.run(
            self.notifications.enqueue(
                business, lead_id, "urgent", {"urgent": True}, cause=f"urgent:{lead_id}"
            )
        )
        if business.owner.phone:
            await uow.run(
                self.jobs.enqueue(
                    OWNER_ALERT,
                    {"lead_id": lead_id},
                    dedupe_key=f"{OWNER_ALERT}:lead:{lead_id}",
                    business=business.slug,
                )
            )

    async def run_owner_alert(self, job: ClaimedJob) -> None:
        """Text the owner about an emergency, through the business's own senders."""
        lead, business = await lead_for_job(self.businesses, job.payload["lead_id"])
        name = "sms/owner_alert.txt"
        await self.texting.send_text(
            job,
            business,
            lead.id,
            purpose=OWNER_ALERT,
            body=lambda state: self.templates.render(
                name, business, **template_context(name, state.lead)
            ),
            source_key=f"{OWNER_ALERT}:{lead.id}",
            to_owner=True,
        )
