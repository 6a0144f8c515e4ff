"""Texting: the one place a text is sent and recorded.

Every text goes through ``Texting.send_text``: text-backs, replies and answers, nudges, staff
replies and the owner's emergency alerts. Right before sending, whenever the job was queued, it
re-checks opt-outs, can-receive and quiet hours in the recipient's time (customers only), adds
the opt-out line to the first text of a conversation, and records the outcome together with
whatever must follow it (notifying the owner, scheduling a nudge) and the job's completion, in
one unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.clock import Clock, to_ms
from hub.config import Business
from hub.events import EventKind
from hub.jobs import ClaimedJob, Discard, Retry, Snooze
from hub.keys import TEXT_BACK
from hub.models import Direction
from hub.notifications import Notifications
from hub.providers import SmsSender
from hub.store import contacts, leads, messages
from hub.store.db import Database, UnitOfWork
from hub.store.jobs import JobQueue
from hub.store.messages import SendState
from hub.store.sql import Script
from hub.templating import text_language, with_opt_out_line
from hub.types import OutboundSms, RecipientIssue, SendResult, SendStatus

log = logging.getLogger("hub.texting")

#: A script step run in the unit of work that records a text's outcome, given what was read
#: before the send, whether it went and why not.
AfterSend = Callable[[SendState, bool, "str | None"], Script[None]]

#: Texts that answer the customer's own message go out at once, quiet hours or not.
_ANSWERS = frozenset({"help", "opt_out_confirmation", "opt_in_confirmation"})


@dataclass(frozen=True, slots=True)
class Outlook:
    """What would become of a text to a customer queued now: ``refused`` says why it would not
    be sent; ``held_until`` when quiet hours hold it. The send re-checks all of it."""

    refused: str | None = None
    held_until: datetime | None = None


class Texting:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        senders: Callable[[str], Sequence[SmsSender]],
        events: Notifications,
        own_numbers: frozenset[str] = frozenset(),
    ) -> None:
        self.db = db
        self.own_numbers = own_numbers
        self.jobs = jobs
        self.clock = clock
        self.senders = senders
        self.events = events

    async def send_text(
        self,
        job: ClaimedJob,
        business: Business,
        lead_id: int,
        *,
        purpose: str,
        body: str | Callable[[SendState], str],
        source_key: str,
        sender_number: str | None = None,
        respect_opt_out: bool = True,
        then: AfterSend | None = None,
        to_owner: bool = False,
    ) -> None:
        """Send one text about a lead for a job, once per ``source_key``, and record how it
        went: to the lead's caller, or (``to_owner``) to the business owner's phone.

        The text's row, what follows it (``then``) and the job's completion are one unit of
        work after the send: one commit per text. A process that dies between the send and
        that commit leaves the job to be rescued and the text sent again, under the same
        ``reference``: at least once, never silently lost.
        """
        capped = purpose == TEXT_BACK and bool(business.text_back.daily_cap)
        now = self.clock.now()
        midnight = business.local_time(now).replace(hour=0, minute=0, second=0, microsecond=0)
        state = await messages.send_state(
            self.db,
            lead_id,
            source_key,
            business_name=business.name,
            capped_purpose=TEXT_BACK if capped else None,
            since=midnight if capped else None,
        )
        if state is None:
            raise Discard("the lead no longer exists")
        if state.message_done:
            return  # an earlier run got this far and recorded it
        if to_owner:
            recipient = business.owner.phone
            if recipient is None:
                return
            sender_number = sender_number or business.numbers[0]
            reason = None
        else:
            recipient = state.phone
            reason = self._reason_not_to_send(business, state, purpose, respect_opt_out)
        if reason is not None:
            event: dict[str, Any] = {"kind": f"{purpose}_skipped", "reason": reason}
            await self.db.run(self._outcome(job, business, state, None, event, then, False, reason))
            return
        if not isinstance(body, str):
            body = body(state)
        if not to_owner and purpose != "opt_out_confirmation" and not state.has_texted:
            body = with_opt_out_line(body, text_language(business, state.language))
        sms = OutboundSms(f"{source_key}#{job.id}", recipient, body, sender_number)
        result, sender = await self.send(business, sms)
        if result.status == SendStatus.RETRY and job.attempt < job.max_attempts:
            raise Retry(result.error or "the sender asked to retry", after=result.retry_after)
        sent = result.status == SendStatus.SENT
        message = {
            "business": business.slug,
            "lead_id": lead_id,
            "phone": recipient,
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
            "created_at": self.clock.now(),
            "sent_at": self.clock.now() if sent else None,
        }
        if sent:
            await self.db.run(self._outcome(job, business, state, message, None, then, True, None))
            return
        if to_owner:
            log.warning(
                "could not text the owner of %s about lead %d: %s",
                business.slug,
                lead_id,
                result.error,
            )
            await self.db.run(self._outcome(job, business, state, message, None, None, False, None))
            return
        async with self.db.transaction() as uow:  # the rare path: the ORM is fine here
            issue = await self.apply_recipient_issue(
                uow, business, state.phone, result.recipient_issue, result.error_code or "send"
            )
            reason = issue or f"texting failed: {result.error}"
            event = {"kind": "text_failed", "reason": reason, "error": result.error}
            await uow.run(self._outcome(job, business, state, message, event, then, False, reason))

    def _outcome(
        self,
        job: ClaimedJob,
        business: Business,
        state: SendState,
        message: dict[str, Any] | None,
        event: dict[str, Any] | None,
        then: AfterSend | None,
        sent: bool,
        reason: str | None,
    ) -> Script[None]:
        """A text's outcome, what follows it, and its job's completion, in one unit of work."""
        dialect = self.db.dialect
        if message is not None:
            message_id = yield from messages.insert(dialect, message)
            if sent and message["phone"] == state.phone:  # the conversation, not the owner
                yield from self.events.emit(
                    business, EventKind.MESSAGE_SENT, state.lead_id, cause=f"message:{message_id}",
                    version=state.lead.version, data={"message_id": message_id},
                )  # fmt: skip
        if event is not None:
            kind = event.pop("kind")
            yield from leads.record(dialect, state.lead_id, kind, at=self.clock.now(), **event)
        if then is not None:
            yield from then(state, sent, reason)
        yield from self.jobs.complete(job, now_ms=self.clock.now_ms())

    def _reason_not_to_send(
        self, business: Business, state: SendState, purpose: str, respect_opt_out: bool
    ) -> str | None:
        if state.phone in self.own_numbers:
            return "it is a number this hub uses"
        if respect_opt_out and state.opted_out:
            return "they opted out of texts"
        if state.cannot_receive:
            return "their number cannot receive texts"
        cap = business.text_back.daily_cap
        if purpose == TEXT_BACK and cap and state.sent_today >= cap:
            return f"the daily cap of {cap} text-backs was reached"
        if purpose in _ANSWERS or not business.quiet_hours.enabled:
            return None
        now = self.clock.now()
        allowed = business.quiet.next_allowed(now, state.phone, business.timezone)
        if allowed == now:
            return None
        if business.quiet_hours.outside == "hold" and allowed is not None:
            raise Snooze(
                f"quiet hours for {state.phone} until {allowed.isoformat()}",
                until_ms=to_ms(allowed),
            )
        return "it is quiet hours where they are"

    async def outlook(self, business: Business, phone: str) -> Outlook:
        """Before queueing a person's text to a customer (a staff reply from the CLI or the
        API): whether the rules ``send_text`` applies would refuse it, and why, so the person
        hears it now rather than find a skipped text later."""
        if phone in self.own_numbers:
            return Outlook("it is a number this hub uses")
        issue = await contacts.reachability(business.slug, phone)
        if issue == RecipientIssue.OPTED_OUT:
            return Outlook("they opted out of texts")
        if issue == RecipientIssue.CANNOT_RECEIVE:
            return Outlook("their number cannot receive texts")
        if not business.quiet_hours.enabled:
            return Outlook()
        now = self.clock.now()
        allowed = business.quiet.next_allowed(now, phone, business.timezone)
        if allowed == now:
            return Outlook()
        if business.quiet_hours.outside == "hold" and allowed is not None:
            return Outlook(held_until=allowed)
        return Outlook("it is quiet hours where they are")

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
        for sender in self.senders(business.slug):
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

    async def send_direct(
        self, business: Business, to: str, body: str, reference: str
    ) -> SendResult:
        """A plugin's text to one of the business's own people (``ProviderContext.send_text``):
        through the sender chain, never to a number that opted out or cannot receive texts,
        and what a provider says of the number is remembered as for any text."""
        issue = await contacts.reachability(business.slug, to)
        if issue is not None:
            why = "opted out of" if issue == RecipientIssue.OPTED_OUT else "cannot receive"
            return SendResult.failed(f"{to} {why} texts", recipient_issue=issue)
        result, _ = await self.send(business, OutboundSms(reference, to, body, business.numbers[0]))
        if result.recipient_issue is not None:
            async with self.db.transaction() as uow:
                detail = result.error_code or "send"
                await self.apply_recipient_issue(uow, business, to, result.recipient_issue, detail)
        return result

    async def apply_recipient_issue(
        self,
        uow: UnitOfWork,
        business: Business,
        phone: str,
        issue: RecipientIssue | None,
        detail: str,
    ) -> str | None:
        """Remember what a provider said about a person; return it in words for the owner."""
        if issue == RecipientIssue.OPTED_OUT:
            await contacts.opt_out(
                uow, business.slug, phone, source="provider_error", detail=detail,
                at=self.clock.now(),
            )  # fmt: skip
            return "they opted out of texts"
        if issue == RecipientIssue.CANNOT_RECEIVE:
            await contacts.cannot_receive(uow, business.slug, phone)
            return "their number cannot receive texts"
        return None
