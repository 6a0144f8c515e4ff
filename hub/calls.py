"""Calls: a call event becomes a lead and a text-back job.

``receive_call`` is what a call source calls from its webhook. It classifies the call, applies
the guards, and commits the call, the caller's lead and a "text back" job in one unit of work,
which hands the job to this process's worker; it returns before any outbound request is made.
The job renders the business's text and sends it through ``Texting``. A call the business makes
(a call-back) stops whatever still waits to reach that customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.clock import Clock, to_ms
from hub.config import Business, own_numbers
from hub.events import EventKind
from hub.exceptions import Refused, check_provider_id
from hub.followups import FollowUps
from hub.jobs import ClaimedJob
from hub.keys import TEXT_BACK, keys_for, text_back_key
from hub.leads import Leads, business_for_job
from hub.models import LeadStatus
from hub.notifications import Notifications
from hub.phone import caller_number
from hub.store import calls, leads
from hub.store.calls import CallerRow
from hub.store.db import Database
from hub.store.errors import Duplicate
from hub.store.jobs import JobQueue
from hub.store.messages import SendState
from hub.store.sql import Script
from hub.templating import Templates, sms_template, template_context
from hub.texting import Texting
from hub.types import CallEvent, CallOutcome, CallReceipt
from hub.views import CallView

__all__ = ["CallReceipt", "Calls"]


class Calls:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        templates: Templates,
        businesses: Mapping[str, Business],
        texting: Texting,
        notifications: Notifications,
        followups: FollowUps,
        leads: Leads,
    ) -> None:
        self.db = db
        self.leads = leads
        self.jobs = jobs
        self.clock = clock
        self.templates = templates
        self.businesses = businesses
        self.texting = texting
        self.notifications = notifications
        self.followups = followups
        self.own_numbers = own_numbers(businesses.values())

    async def receive_call(
        self, business: Business, provider: str, event: CallEvent
    ) -> CallReceipt:
        ours, theirs = (
            (event.caller, event.called) if event.outbound else (event.called, event.caller)
        )
        number = caller_number(ours, business.region)
        if number is None or number not in business.numbers:
            raise Refused(403, f"{ours} is not a number of business {business.slug!r}")
        check_provider_id(event.call_id, "the call's id")
        at = _believable(event.at, self.clock.now())
        customer = caller_number(theirs, business.region)
        if event.outbound:
            return await self._called_back(business, provider, event, number, customer, at)

        answered = event.outcome == CallOutcome.ANSWERED
        after_hours = not answered and (
            event.outcome == CallOutcome.AFTER_HOURS or not business.is_open(at)
        )
        outcome = (
            CallOutcome.AFTER_HOURS
            if after_hours and event.outcome == CallOutcome.MISSED
            else event.outcome
        )
        call = {
            "business": business.slug,
            "provider": provider,
            "provider_call_id": event.call_id,
            "lead_id": None,
            "caller": customer or (event.caller or "")[:64] or None,
            "called": number,
            "outcome": str(outcome),
            "after_hours": after_hours,
            "skipped_reason": self._guard(business, customer, event, answered),
            "forwarded_from": event.forwarded_from,
            "recording_url": event.recording_url,
            "at": at,
            "provider_data": dict(event.raw),
        }
        run_at_ms = to_ms(self.clock.now() + timedelta(seconds=business.text_back.delay))
        try:
            recorded = await self.db.run(self._record_call(business, customer, call, run_at_ms))
        except Duplicate:
            existing = await calls.find(business.slug, provider, event.call_id)
            assert existing is not None
            return CallReceipt(
                "duplicate",
                existing.outcome,
                existing.after_hours,
                existing.skipped_reason,
                existing.id,
                existing.lead_id,
            )
        return CallReceipt(
            "scheduled" if recorded.skipped is None else "recorded",
            str(outcome),
            after_hours,
            recorded.skipped,
            recorded.call_id,
            recorded.lead_id,
        )

    def _guard(
        self, business: Business, caller: str | None, event: CallEvent, answered: bool
    ) -> str | None:
        if answered:
            return "answered"
        if caller is None:
            return "anonymous"
        # Any business's number, not only this one's: two businesses on one hub must never
        # text each other. A caller that is its own ForwardedFrom is the business's own line
        # forwarding (catch mode), not a customer.
        if caller in self.own_numbers or caller == caller_number(
            event.forwarded_from, business.region
        ):
            return "own_number"
        return None

    def _record_call(
        self, business: Business, customer: str | None, call: dict[str, Any], run_at_ms: int
    ) -> Script[_Recorded]:
        """The webhook's one unit of work: the call, the caller's lead (counted) and what
        follows, a text-back job or word to the owner. A retried webhook rolls it all back."""
        dialect = self.db.dialect
        skipped = call["skipped_reason"]
        caller = None
        if customer is not None and skipped is None:
            caller = yield from calls.attach_caller(
                dialect, business.slug, customer, call["at"], business.source_of(call["called"])
            )
            if caller.opted_out:
                skipped = "opted_out"
            elif _in_cooldown(business, caller.last_text_back_at, call["at"]):
                skipped = "cooldown"
        call = {**call, "skipped_reason": skipped, "lead_id": caller.lead_id if caller else None}
        call_id = yield from calls.insert_call(dialect, call)
        if call_id is None:
            raise Duplicate(f"call {call['provider_call_id']}")
        if caller is not None:
            events = self.notifications
            if caller.lead_created:
                yield from events.emit(
                    business, EventKind.LEAD_CREATED, caller.lead_id, cause=f"call:{call_id}",
                    version=caller.lead_version, data={"actor": "customer", "call_id": call_id},
                )  # fmt: skip
            yield from events.emit(
                business, EventKind.CALL_RECEIVED, caller.lead_id, cause=f"call:{call_id}",
                version=caller.lead_version, data={"actor": "customer", "call_id": call_id},
            )  # fmt: skip
            skipped = yield from self._follow_call(
                business, caller, call_id, call, skipped, run_at_ms
            )
        return _Recorded(call_id, caller.lead_id if caller else None, skipped)

    def _follow_call(
        self,
        business: Business,
        caller: CallerRow,
        call_id: int,
        call: dict[str, Any],
        skipped: str | None,
        run_at_ms: int,
    ) -> Script[str | None]:
        """Queue what a missed call leads to: a text-back, or (when the caller cannot be
        texted) word to the owner. Returns the final skip reason."""
        dialect = self.db.dialect
        if skipped is None:
            # Keyed by lead: a caller who rings again while a text-back is still waiting (its
            # delay, quiet hours) does not get a second one.
            job_id = yield from self.jobs.enqueue(
                TEXT_BACK,
                {
                    "call_id": call_id,
                    "lead_id": caller.lead_id,
                    "after_hours": call["after_hours"],
                    "called": call["called"],
                },
                run_at_ms=run_at_ms,
                dedupe_key=text_back_key(caller.lead_id),
                business=business.slug,
            )
            if job_id is not None:
                yield from calls.set_last_text_back(dialect, caller.contact_id, call["at"])
                return None
            skipped = "text_back_pending"
        if skipped in {"text_back_pending", "cooldown"}:
            yield from calls.set_skipped(dialect, call_id, skipped)
            return skipped
        reason = "they opted out of texts"  # the only other guard that keeps a lead
        yield from self.notifications.enqueue(
            business, caller.lead_id, "new_lead", {"reason": reason}, cause=f"call:{call_id}"
        )
        return skipped

    async def _called_back(
        self,
        business: Business,
        provider: str,
        event: CallEvent,
        number: str,
        customer: str | None,
        at: datetime,
    ) -> CallReceipt:
        """The business called a customer: nothing to text, and any text-back or nudge still
        waiting for them would now be noise. A new lead counts as contacted."""
        lead = await leads.get_open(business.slug, customer) if customer else None
        try:
            async with self.db.transaction() as uow:
                call_id = await calls.insert_outbound(
                    uow,
                    business=business.slug,
                    provider=provider,
                    provider_call_id=event.call_id,
                    lead_id=lead.id if lead else None,
                    caller=number,
                    called=customer or "",
                    outcome="outbound",
                    skipped_reason="outbound",
                    at=at,
                    provider_data=dict(event.raw),
                )
                if lead is not None:
                    await uow.run(self.jobs.cancel(keys_for(lead.id)))
                    await uow.run(
                        leads.record(
                            uow.dialect, lead.id, "called_back", at=at, actor="owner",
                            call_id=call_id,
                        )
                    )  # fmt: skip
                    if lead.status == LeadStatus.NEW:
                        await self.leads.change(
                            uow, lead, actor="owner", status=LeadStatus.CONTACTED
                        )
        except Duplicate:
            return CallReceipt("duplicate", "outbound", skipped="outbound")
        return CallReceipt(
            "recorded", "outbound", False, "outbound", call_id, lead.id if lead else None
        )

    # -- the text-back job ------------------------------------------------------------------------

    async def run_text_back(self, job: ClaimedJob) -> None:
        """Text back the caller of ``payload["call_id"]``: what the webhook knew (the lead, the
        number called, after hours or not) came with the job; the rest ``send_text`` reads."""
        payload = job.payload
        business = business_for_job(self.businesses, job.business or "")
        after_hours = bool(payload["after_hours"])
        template = "text_back_after_hours" if after_hours else "text_back"

        def render(state: SendState) -> str:
            name = sms_template(template, business, state.language)
            call = CallView(
                id=payload["call_id"],
                business=business.slug,
                called=payload["called"],
                after_hours=after_hours,
                outcome=state.lead.outcome or "missed",
                caller=state.lead.caller,
                lead_id=state.lead.id,
            )
            missing = [field for field in ("service", "zip") if not getattr(state.lead, field)]
            return self.templates.render(
                name, business, **template_context(name, state.lead, call=call, missing=missing)
            )

        def then(state: SendState, sent: bool, reason: str | None) -> Script[None]:
            yield from self.notifications.enqueue(
                business,
                state.lead_id,
                "new_lead",
                {"texted": sent, "reason": reason},
                cause=f"call:{payload['call_id']}",
            )
            if sent:
                yield from self.followups.schedule(business, state.lead_id, state.lead.status)

        await self.texting.send_text(
            job,
            business,
            payload["lead_id"],
            purpose=TEXT_BACK,
            body=render,
            source_key=f"{TEXT_BACK}:{payload['call_id']}",
            sender_number=payload["called"],
            then=then,
        )


def _in_cooldown(business: Business, last: datetime | None, at: datetime) -> bool:
    return last is not None and at - last < timedelta(seconds=business.text_back.cooldown)


@dataclass(frozen=True, slots=True)
class _Recorded:
    call_id: int
    lead_id: int | None
    skipped: str | None


#: How far a provider's time for a call may be from the hub's clock and still be believed.
_PAST, _FUTURE = timedelta(days=7), timedelta(days=1)


def _believable(at: datetime | None, now: datetime) -> datetime:
    """A call's time as its webhook gives it, or the hub's ``now`` when it gives none or one
    no call can have (year 1, next year): opening hours, quiet hours and the owner's
    notification all compute with it, and an absurd one would make them fail for good."""
    if at is None or at.tzinfo is None or not now - _PAST <= at <= now + _FUTURE:
        return now
    return at
