"""The missed-call flow, in plain domain terms: no provider names live here.

``receive_call`` is what a call source calls from its webhook. It classifies the call, applies
the guards, and commits the call, the caller's lead and a "text back" job in one transaction;
then it hands the job to this process's worker and returns, before any outbound request is
made. The job renders the business's text and sends it through ``send_text``, the one path
every text to a customer takes: it re-checks opt-outs and quiet hours right before sending,
adds the opt-out line to the first text of a conversation, and records the outcome together
with whatever must follow it (notifying the owner, scheduling a nudge).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hub import followups, leads, store
from hub._sqlite import Script
from hub.clock import to_ms
from hub.config import Business
from hub.exceptions import Refused
from hub.jobs import ClaimedJob, Discard, Retry, Snooze
from hub.models import Call, Contact, Direction, Lead, LeadStatus, OptOut
from hub.phone import caller_number
from hub.providers import SmsSender
from hub.templating import with_opt_out_line
from hub.types import (
    CallEvent,
    CallOutcome,
    CallReceipt,
    DeliveryReport,
    InboundSms,
    OutboundSms,
    RecipientIssue,
    SendResult,
    SendStatus,
)

if TYPE_CHECKING:
    from tortoise.backends.base.client import BaseDBAsyncClient

    from hub.core import Hub

log = logging.getLogger("hub.flow")

TEXT_BACK = "text_back"

#: A script step run in the transaction that records a text's outcome, given what was read
#: before the send, whether it went and why not; it returns the ids of the jobs it queued.
AfterSend = Callable[["store.SendState", bool, "str | None"], Script[list[int]]]

#: Texts that answer the customer's own message go out at once, quiet hours or not.
_ANSWERS = frozenset({"help", "opt_out_confirmation", "opt_in_confirmation"})


class Flow:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- calls ------------------------------------------------------------------------------------

    async def receive_call(
        self, business: Business, provider: str, event: CallEvent
    ) -> CallReceipt:
        hub = self.hub
        ours, theirs = (
            (event.caller, event.called) if event.outbound else (event.called, event.caller)
        )
        number = caller_number(ours, business.region)
        if number is None or number not in business.numbers:
            raise Refused(403, f"{ours} is not a number of business {business.slug!r}")
        at = event.at or hub.clock.now()
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
            "skipped_reason": self._guard(business, customer, answered),
            "forwarded_from": event.forwarded_from,
            "recording_url": event.recording_url,
            "at": at,
            "provider_data": dict(event.raw),
        }
        run_at_ms = to_ms(hub.clock.now() + timedelta(seconds=business.text_back.delay))
        try:
            recorded = await hub.db.run(self._record_call(business, customer, call, run_at_ms))
        except _Duplicate:
            existing = await Call.get(
                business=business.slug, provider=provider, provider_call_id=event.call_id
            )
            return CallReceipt(
                "duplicate",
                existing.outcome,
                existing.after_hours,
                existing.skipped_reason,
                existing.id,
                existing.lead_id,
            )
        scheduled = recorded.skipped is None
        hub.after_commit(recorded.job_ids, run_at_ms=run_at_ms if scheduled else None)
        return CallReceipt(
            "scheduled" if scheduled else "recorded",
            str(outcome),
            after_hours,
            recorded.skipped,
            recorded.call_id,
            recorded.lead_id,
        )

    def _guard(self, business: Business, caller: str | None, answered: bool) -> str | None:
        if answered:
            return "answered"
        if caller is None:
            return "anonymous"
        if caller in {*business.numbers, business.forward_to, business.owner.phone}:
            return "own_number"
        return None

    def _record_call(
        self, business: Business, customer: str | None, call: dict[str, Any], run_at_ms: int
    ) -> Script[_Recorded]:
        """The webhook's one transaction: the call, the caller's lead (counted) and what
        follows, a text-back job or word to the owner. A retried webhook rolls it all back."""
        skipped = call["skipped_reason"]
        caller = None
        if customer is not None and skipped is None:
            caller = yield from store.attach_caller(business.slug, customer, call["at"])
            if caller.opted_out:
                skipped = "opted_out"
            elif _in_cooldown(business, caller.last_text_back_at, call["at"]):
                skipped = "cooldown"
        call = {**call, "skipped_reason": skipped, "lead_id": caller.lead_id if caller else None}
        call_id = yield from store.insert_call(self.hub.db, call)
        if call_id is None:
            raise _Duplicate
        job_ids: list[int] = []
        if caller is not None:
            job_ids, skipped = yield from self._follow_call(
                business, caller, call_id, call, skipped, run_at_ms
            )
        return _Recorded(call_id, caller.lead_id if caller else None, skipped, job_ids)

    def _follow_call(
        self,
        business: Business,
        caller: store.CallerRow,
        call_id: int,
        call: dict[str, Any],
        skipped: str | None,
        run_at_ms: int,
    ) -> Script[tuple[list[int], str | None]]:
        """Queue what a missed call leads to: a text-back, or (when the caller cannot be
        texted) word to the owner. Returns the job ids and the final skip reason."""
        if skipped is None:
            # Keyed by lead: a caller who rings again while a text-back is still waiting (its
            # delay, quiet hours) does not get a second one.
            job_id = yield from self.hub.enqueue_script(
                TEXT_BACK,
                {
                    "call_id": call_id,
                    "lead_id": caller.lead_id,
                    "after_hours": call["after_hours"],
                    "called": call["called"],
                },
                run_at_ms=run_at_ms,
                dedupe_key=f"{TEXT_BACK}:lead:{caller.lead_id}",
                business=business.slug,
            )
            if job_id is not None:
                yield (
                    "UPDATE hub_contact SET last_text_back_at = ? WHERE id = ?",
                    [call["at"], caller.contact_id],
                )
                return [job_id], None
            skipped = "text_back_pending"
        if skipped in {"text_back_pending", "cooldown"}:
            yield ("UPDATE hub_call SET skipped_reason = ? WHERE id = ?", [skipped, call_id])
            return [], skipped
        reason = "they opted out of texts"  # the only other guard that keeps a lead
        job_ids = yield from self.hub.notifications.enqueue_script(
            business, caller.lead_id, "new_lead", {"reason": reason}, cause=f"call:{call_id}"
        )
        return job_ids, skipped

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
        hub = self.hub
        lead = None
        if customer is not None:
            lead = await Lead.get_or_none(open_key=leads.open_key(business.slug, customer))
        try:
            async with in_transaction() as tx:
                call = await Call.create(
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
                    using_db=tx,
                )
                if lead is not None:
                    await hub.jobs.cancel(
                        followups.keys_for(lead.id), now_ms=hub.clock.now_ms(), using=tx
                    )
                    await leads.record(
                        lead.id, "called_back", at=at, actor="owner", using=tx, call_id=call.id
                    )
                    if lead.status == LeadStatus.NEW:
                        await leads.set_status(
                            lead,
                            LeadStatus.CONTACTED,
                            at=at,
                            actor="owner",
                            using=tx,
                            jobs=hub.jobs,
                        )
        except IntegrityError:
            return CallReceipt("duplicate", "outbound", skipped="outbound")
        return CallReceipt(
            "recorded", "outbound", False, "outbound", call.id, lead.id if lead else None
        )

    # -- text-back --------------------------------------------------------------------------------

    async def run_text_back(self, job: ClaimedJob) -> None:
        """Text back the caller of ``payload["call_id"]``: what the webhook knew (the lead, the
        number called, after hours or not) came with the job; the rest ``send_text`` reads."""
        hub, payload = self.hub, job.payload
        business = hub.business_for_job(job.business or "")
        call = SimpleNamespace(
            id=payload["call_id"], after_hours=payload["after_hours"], called=payload["called"]
        )
        template = "sms/text_back_after_hours.txt" if call.after_hours else "sms/text_back.txt"

        def render(state: store.SendState) -> str:
            return hub.templates.render(template, business, lead=state.lead, call=call)

        def then(state: store.SendState, sent: bool, reason: str | None) -> Script[list[int]]:
            job_ids = yield from hub.notifications.enqueue_script(
                business,
                state.lead_id,
                "new_lead",
                {"texted": sent, "reason": reason},
                cause=f"call:{call.id}",
            )
            if sent:
                job_ids += yield from followups.schedule(
                    hub, business, state.lead_id, state.lead.status
                )
            return job_ids

        await self.send_text(
            job,
            business,
            payload["lead_id"],
            purpose=TEXT_BACK,
            body=render,
            source_key=f"{TEXT_BACK}:{call.id}",
            sender_number=call.called,
            then=then,
        )

    # -- the one way a text reaches a customer ----------------------------------------------------

    async def send_text(
        self,
        job: ClaimedJob,
        business: Business,
        lead_id: int,
        *,
        purpose: str,
        body: str | Callable[[store.SendState], str],
        source_key: str,
        sender_number: str | None = None,
        respect_opt_out: bool = True,
        then: AfterSend | None = None,
    ) -> None:
        """Send one text for a job, once per ``source_key``, and record how it went.

        Right before sending, whenever the job was queued: the opt-out and can-receive checks,
        the daily cap for text-backs, and quiet hours in the recipient's time (the job waits
        for the window, or the text is skipped, as the business chose). The text's row, what
        follows it (``then``, a script step: notifying the owner...) and the job's completion
        are one transaction after the send: one commit per text. A process that dies between
        the send and that commit leaves the job to be rescued and the text sent again, under
        the same ``reference``: at least once, never silently lost.
        """
        hub = self.hub
        state = await store.send_state(
            hub.db,
            lead_id,
            source_key,
            business=business,
            capped_purpose=TEXT_BACK if purpose == TEXT_BACK else None,
            now=hub.clock.now(),
        )
        if state is None:
            raise Discard("the lead no longer exists")
        if state.message_done:
            return  # an earlier run got this far and recorded it
        reason = await self._reason_not_to_send(business, state, purpose, respect_opt_out)
        if reason is not None:
            event: dict[str, Any] = {"kind": f"{purpose}_skipped", "reason": reason}
            outcome = self._outcome(job, state, None, event, then, False, reason)
            hub.after_commit(await hub.db.run(outcome))
            return
        if not isinstance(body, str):
            body = body(state)
        if purpose != "opt_out_confirmation" and not state.has_texted:
            body = with_opt_out_line(body)
        sms = OutboundSms(f"{source_key}#{job.id}", state.phone, body, sender_number)
        result, sender = await self.send(business, sms)
        if result.status == SendStatus.RETRY and job.attempt < job.max_attempts:
            raise Retry(result.error or "the sender asked to retry", after=result.retry_after)
        sent = result.status == SendStatus.SENT
        message = {
            "business": business.slug,
            "lead_id": lead_id,
            "phone": state.phone,
            "business_number": sender_number,
            "direction": Direction.OUTBOUND.value,
            "purpose": purpose,
            "body": body,
            "source_key": source_key,
            "provider": sender.name if sender else None,
            "provider_message_id": result.provider_id,
            "status": str(result.message_status) if sent else "failed",
            "status_rank": result.message_status.rank if sent else 3,
            "error": result.error,
            "error_code": result.error_code,
            "created_at": hub.clock.now(),
            "sent_at": hub.clock.now() if sent else None,
        }
        if sent:
            outcome = self._outcome(job, state, message, None, then, True, None)
            hub.after_commit(await hub.db.run(outcome))
            return
        async with in_transaction() as tx:  # the rare path: the ORM is fine here
            issue = await self.apply_recipient_issue(
                business, state.phone, result.recipient_issue, result.error_code or "send", tx
            )
            reason = issue or f"texting failed: {result.error}"
            event = {"kind": "text_failed", "reason": reason, "error": result.error}
            job_ids = await hub.db.drive(
                self._outcome(job, state, message, event, then, False, reason), tx
            )
        hub.after_commit(job_ids)

    def _outcome(
        self,
        job: ClaimedJob,
        state: store.SendState,
        message: dict[str, Any] | None,
        event: dict[str, Any] | None,
        then: AfterSend | None,
        sent: bool,
        reason: str | None,
    ) -> Script[list[int]]:
        """A text's outcome, what follows it, and its job's completion, in one transaction."""
        hub = self.hub
        if message is not None:
            yield store.insert_message(message)
        if event is not None:
            kind = event.pop("kind")
            yield leads.record_statement(
                state.lead_id, kind, at=hub.clock.now(), db=hub.db, **event
            )
        job_ids = (yield from then(state, sent, reason)) if then else []
        done = yield hub.jobs.complete_statement(job, now_ms=hub.clock.now_ms())
        job.completed = bool(done)
        return job_ids

    async def _reason_not_to_send(
        self, business: Business, state: store.SendState, purpose: str, respect_opt_out: bool
    ) -> str | None:
        if respect_opt_out and state.opted_out:
            return "they opted out of texts"
        if state.cannot_receive:
            return "their number cannot receive texts"
        cap = business.text_back.daily_cap
        if purpose == TEXT_BACK and cap and state.sent_today >= cap:
            return f"the daily cap of {cap} text-backs was reached"
        if purpose in _ANSWERS or not business.quiet_hours.enabled:
            return None
        now = self.hub.clock.now()
        allowed = business.quiet.next_allowed(now, state.phone, business.timezone)
        if allowed == now:
            return None
        if business.quiet_hours.outside == "hold" and allowed is not None:
            raise Snooze(
                f"quiet hours for {state.phone} until {allowed.isoformat()}",
                until_ms=to_ms(allowed),
            )
        return "it is quiet hours where they are"

    async def send(
        self, business: Business, sms: OutboundSms
    ) -> tuple[SendResult, SmsSender | None]:
        """Send through the business's sender, then its fallbacks, until one sends.

        A failure about the recipient (opted out, cannot receive texts) stops the chain: another
        sender will not change the person.
        """
        first_retry: tuple[SendResult, SmsSender] | None = None
        last: tuple[SendResult, SmsSender | None] = (
            SendResult.failed("no sender configured"),
            None,
        )
        for sender in self.hub.senders(business.slug):
            try:
                result = await sender.send(sms)
            except Exception as exc:  # a plugin bug or an unexpected network error: try later
                log.exception("sender %r raised", sender.name)
                result = SendResult.retry(f"{type(exc).__name__}: {exc}")
            if result.status == SendStatus.SENT or result.recipient_issue is not None:
                return result, sender
            log.warning(
                "sender %r could not send text %s: %s",
                sender.name,
                sms.reference,
                result.error,
            )
            if result.status == SendStatus.RETRY and first_retry is None:
                first_retry = (result, sender)
            last = (result, sender)
        return first_retry or last

    async def apply_recipient_issue(
        self,
        business: Business,
        phone: str,
        issue: RecipientIssue | None,
        detail: str,
        tx: BaseDBAsyncClient,
    ) -> str | None:
        """Remember what a provider said about a person; return it in words for the owner."""
        if issue == RecipientIssue.OPTED_OUT:
            await opt_out(
                business.slug,
                phone,
                source="provider_error",
                detail=detail,
                at=self.hub.clock.now(),
                using=tx,
            )
            return "they opted out of texts"
        if issue == RecipientIssue.CANNOT_RECEIVE:
            await (
                Contact.filter(business=business.slug, phone=phone)
                .using_db(tx)
                .update(can_receive_sms=False)
            )
            return "their number cannot receive texts"
        return None

    # -- inbound (see hub.inbound) ----------------------------------------------------------------

    async def receive_sms(self, business: Business, provider: str, sms: InboundSms) -> None:
        from hub import inbound

        await inbound.receive_sms(self.hub, business, provider, sms)

    async def receive_delivery_report(
        self, business: Business, provider: str, report: DeliveryReport
    ) -> None:
        from hub import inbound

        await inbound.receive_delivery_report(self.hub, business, provider, report)


def _in_cooldown(business: Business, last: datetime | None, at: datetime) -> bool:
    return last is not None and at - last < timedelta(seconds=business.text_back.cooldown)


class _Duplicate(Exception):
    """The call was already stored: undo this delivery's writes."""


@dataclass(frozen=True, slots=True)
class _Recorded:
    call_id: int
    lead_id: int | None
    skipped: str | None
    job_ids: list[int]


async def opt_out(
    business: str,
    phone: str,
    *,
    source: str,
    at: datetime,
    detail: str | None = None,
    using: BaseDBAsyncClient,
) -> bool:
    """Record that ``phone`` asked ``business`` to stop texting; ``False`` if it already had."""
    existing = await OptOut.get_or_none(business=business, phone=phone, using_db=using)
    if existing is None:
        await OptOut.create(
            business=business,
            phone=phone,
            source=source,
            detail=detail,
            opted_out_at=at,
            using_db=using,
        )
        return True
    if existing.active:
        return False
    existing.active, existing.source, existing.detail = True, source, detail
    existing.opted_out_at, existing.opted_in_at = at, None
    await existing.save(using_db=using)
    return True
