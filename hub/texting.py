"""Texting: the one place a text is sent and recorded.

Every text goes through ``Texting.send_text``: text-backs, replies and answers, nudges, staff
replies and the owner's emergency alerts. Right before sending, whenever the job was queued, it
re-checks opt-outs, can-receive and quiet hours in the recipient's time (customers only), adds
the opt-out line to the first text of a conversation, and records the outcome together with
whatever must follow it (notifying the owner, scheduling a nudge) and the job's completion, in
one unit of work.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.clock import Clock, to_ms
from hub.config import Business
from hub.events import EventKind
from hub.jobs import ClaimedJob, Discard, Retry, Snooze
from hub.keys import TEXT_BACK
from hub.metrics import Metrics
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
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
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

        The text's row is committed as an attempt (``sending``) before the provider is
        called; its outcome, what follows it (``then``) and the job's completion are one unit
        of work after the send. A run that finds an attempt without an outcome (the process
        died, the lease was rescued, the send timed out) asks the senders whether that text
        went out (``SmsSender.find_sent``) and sends only when none says it did; a sender
        that cannot tell means it is sent again (README, "Guarantees").
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
        attempt = await messages.get(state.attempt_id) if state.attempt_id else None
        if attempt is not None:
            earlier = OutboundSms(
                f"{source_key}#{job.id}", attempt.phone, attempt.body, attempt.business_number
            )
            found, by = await self.find_sent(business, earlier, attempt.created_at)
            if found is not None:  # it went out: record it, never send it again
                self._count(business, by, "sent")
                message = self._message(business, lead_id, earlier, purpose, by, found)
                await self.db.run(
                    self._outcome(job, business, state, message, None, then, True, None, attempt.id)
                )
                return
            if capped and attempt.created_at >= midnight:  # not sent: not one of today's
                state = dataclasses.replace(state, sent_today=state.sent_today - 1)
        if to_owner:
            recipient = business.owner.phone
            if recipient is None:
                return
            sender_number = sender_number or business.numbers[0]
            reason = None
        else:
            recipient = state.phone
            reason = self._reason_not_to_send(business, state, purpose, respect_opt_out)
        attempt_id = attempt.id if attempt is not None else None
        if reason is not None:
            self._count(business, None, "skipped")
            event: dict[str, Any] = {"kind": f"{purpose}_skipped", "reason": reason}
            await self.db.run(
                self._outcome(job, business, state, None, event, then, False, reason, attempt_id)
            )
            return
        if attempt is not None:  # the same text again: the one the provider said it lacks
            sms = OutboundSms(f"{source_key}#{job.id}", recipient, attempt.body, sender_number)
        else:
            if not isinstance(body, str):
                body = body(state)
            if not to_owner and purpose != "opt_out_confirmation" and not state.has_texted:
                body = with_opt_out_line(body, text_language(business, state.language))
            sms = OutboundSms(f"{source_key}#{job.id}", recipient, body, sender_number)
            attempt_id = await self.db.run(
                messages.insert_attempt(
                    self.db.dialect,
                    {
                        "business": business.slug,
                        "lead_id": lead_id,
                        "phone": recipient,
                        "business_number": sender_number,
                        "direction": Direction.OUTBOUND.value,
                        "purpose": purpose,
                        "body": body,
                        "source_key": source_key,
                        "created_at": self.clock.now(),
                    },
                )
            )
            if attempt_id is None:
                raise Retry("another run of this text recorded an attempt first")
        result, sender = await self.send(business, sms)
        if result.status == SendStatus.RETRY and job.attempt < job.max_attempts:
            self._count(business, sender, "retry")
            # The attempt stays without an outcome: a retry that timed out may have been
            # accepted, so the next run asks before it sends.
            raise Retry(result.error or "the sender asked to retry", after=result.retry_after)
        sent = result.status == SendStatus.SENT
        self._count(business, sender, "sent" if sent else "failed")
        message = self._message(business, lead_id, sms, purpose, sender, result)
        if sent:
            await self.db.run(
                self._outcome(job, business, state, message, None, then, True, None, attempt_id)
            )
            return
        if to_owner:
            log.warning(
                "could not text the owner of %s about lead %d: %s",
                business.slug,
                lead_id,
                result.error,
            )
            await self.db.run(
                self._outcome(job, business, state, message, None, None, False, None, attempt_id)
            )
            return
        async with self.db.transaction() as uow:  # the rare path: the ORM is fine here
            issue = await self.apply_recipient_issue(
                uow, business, state.phone, result.recipient_issue, result.error_code or "send"
            )
            reason = issue or f"texting failed: {result.error}"
            event = {"kind": "text_failed", "reason": reason, "error": result.error}
            await uow.run(
                self._outcome(job, business, state, message, event, then, False, reason, attempt_id)
            )

    def _count(self, business: Business, sender: SmsSender | None, outcome: str) -> None:
        provider = sender.name if sender is not None else "none"
        self.metrics.texts.labels(business.slug, provider, outcome).inc()

    def _message(
        self,
        business: Business,
        lead_id: int,
        sms: OutboundSms,
        purpose: str,
        sender: SmsSender | None,
        result: SendResult,
    ) -> dict[str, Any]:
        """A text's row, as its outcome leaves it."""
        sent = result.status == SendStatus.SENT
        return {
            "business": business.slug,
            "lead_id": lead_id,
            "phone": sms.to,
            "business_number": sms.sender_number,
            "purpose": purpose,
            "provider": sender.name if sender else None,
            "provider_message_id": result.provider_id,
            "status": str(result.message_status) if sent else "failed",
            "status_rank": result.message_status.rank if sent else 3,
            "error": result.error,
            "error_code": result.error_code,
            "sent_at": self.clock.now() if sent else None,
        }

    async def find_sent(
        self, business: Business, sms: OutboundSms, since: datetime
    ) -> tuple[SendResult | None, SmsSender | None]:
        """Ask the business's senders whether an earlier attempt at ``sms`` went out: the
        sender's result when one found it; ``(None, None)`` when none did, or none can tell.
        A sender that cannot ask now (its API is down) makes the job retry, never send."""
        for sender in self.senders(business.slug):
            try:
                found = await sender.find_sent(sms, since)
            except NotImplementedError:
                log.warning(
                    "sender %r cannot tell whether text %s went out; it is sent again",
                    sender.name,
                    sms.reference,
                )
                continue
            except Exception as exc:
                log.exception("sender %r raised while looking for a sent text", sender.name)
                raise Retry(f"could not ask {sender.name} whether the text went out") from exc
            if found is None:
                continue
            if found.status == SendStatus.SENT:
                log.info("text %s had gone out through %r", sms.reference, sender.name)
                return found, sender
            reason = found.error or "no answer"
            raise Retry(
                f"could not ask {sender.name} whether the text went out: {reason}",
                after=found.retry_after,
            )
        return None, None

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
        attempt_id: int | None,
    ) -> Script[None]:
        """A text's outcome (on its attempt's row; a text not sent forgets it), what follows
        it, and its job's completion, in one unit of work."""
        dialect = self.db.dialect
        if message is None and attempt_id is not None:
            yield from messages.drop_attempt(dialect, attempt_id)
        if message is not None:
            if attempt_id is not None:
                message_id = attempt_id
                yield from messages.record_outcome(dialect, message_id, message)
            else:
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

    async def gave_up(self, job: ClaimedJob, error: str) -> None:
        """A text's job failed for good (``JobKind.on_give_up``): its last attempt raised or
        timed out, so no outcome was recorded and the owner heard nothing. Tell them now
        (``notify.cannot_text``): a text-back that never went out is a lead lost. The error
        itself stays in the job for operators (``hub jobs list --failed``)."""
        business = self.events.businesses.get(job.business or "")
        lead_id = job.payload.get("lead_id")
        if business is None or not isinstance(lead_id, int):
            return
        reason = f"the text could not be sent after {job.attempt} tries"
        await self.db.run(
            self.events.enqueue(
                business, lead_id, "cannot_text", {"reason": reason}, cause=f"job:{job.id}"
            )
        )

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
            started = time.monotonic()
            try:
                result = await sender.send(sms)
            except Exception as exc:  # a plugin bug or an unexpected network error: try later
                log.exception("sender %r raised", sender.name)
                result = SendResult.retry(f"{type(exc).__name__}: {exc}")
            finally:
                elapsed = time.monotonic() - started
                self.metrics.send_seconds.labels(sender.name).observe(elapsed)
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
