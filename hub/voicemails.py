"""Voicemail transcripts: what a caller said on the recording, read into their lead.

A call source that asked its provider for a transcript hands it in with
``ProviderContext.attach_transcript(call_id, text)`` for a call it reported. ``attach`` is one
unit of work: the transcript becomes an inbound message of the caller's conversation (purpose
``voicemail``, so the owner's notifications quote it among the caller's words and the nudge,
which waits for the caller to say something, stays quiet) and a ``process_transcript`` job.
One transcript per call: a provider's retried callback changes nothing.

The job reads the transcript like a first reply: ``hub.speech.normalise`` first (spoken
numbers, fillers), then the business's reply parsers (``Replies.parse``). Its fields fill only
what the lead does not have yet: a caller's text is typed, and says what they want now, so it
beats what the speech engine heard, whichever arrived first. A transcript never opts anyone
out or in: those are answers to texts, and a speech engine's "stop" is not the caller's.

What follows depends on where the conversation is when the transcript arrives:

- **the text-back is still waiting** (its delay, quiet hours): nothing is sent now; the
  text-back, when it goes, asks only for what is still missing (its templates get
  ``missing``), and once nothing is missing the owner gets the summary at once;
- **the text-back went and the caller has not answered**, or **they have**: the next step is
  the one a reply takes (``Replies.next_step``): an emergency alerts the owner; the follow-up
  question asks only for what is still missing, once per lead; with nothing missing (or the
  question already asked) the owner gets the summary; and after the summary, the transcript
  reaches the owner as a reply does;
- **no text will go** (the caller opted out, cannot be texted, or was texted within the
  cooldown): the owner gets the summary with the transcript, since no conversation follows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from hub.clock import Clock
from hub.config import Business
from hub.events import EventKind
from hub.followups import FollowUps
from hub.jobs import ClaimedJob, Discard
from hub.keys import text_back_key
from hub.leads import Leads, lead_for_job
from hub.models import Call, Direction, Job
from hub.notifications import Notifications
from hub.replies import LEAD_FIELDS, Replies
from hub.speech import normalise
from hub.store import leads as lead_rows
from hub.store import messages
from hub.store.db import Database
from hub.store.jobs import JobQueue
from hub.types import MessageStatus

log = logging.getLogger("hub.voicemails")

PROCESS_TRANSCRIPT = "process_transcript"
#: Longest transcript kept: a few minutes of speech. Longer ones are cut, not refused.
MAX_TRANSCRIPT = 4000


class Voicemails:
    def __init__(
        self,
        db: Database,
        jobs: JobQueue,
        clock: Clock,
        businesses: Mapping[str, Business],
        leads: Leads,
        replies: Replies,
        notifications: Notifications,
        followups: FollowUps,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock
        self.businesses = businesses
        self.leads = leads
        self.replies = replies
        self.notifications = notifications
        self.followups = followups

    async def attach(self, business: str, provider: str, call_id: str, text: str) -> bool:
        """Keep ``text`` as the transcript of ``provider``'s call ``call_id`` of ``business``
        and queue its reading; ``False`` if the call is unknown (to this business and
        provider), has no lead (an anonymous or answered call), already has a transcript, or
        ``text`` is blank."""
        text = " ".join(text.split())[:MAX_TRANSCRIPT]
        if not text:
            return False
        call = await Call.get_or_none(
            business=business, provider=provider, provider_call_id=call_id
        )
        if call is None or call.lead_id is None or call.caller is None:
            return False
        source_key = f"voicemail:{call.id}"
        if await messages.exists(source_key=source_key):
            return False
        now = self.clock.now()
        settings = self.businesses[business]
        try:
            async with self.db.transaction() as uow:
                message = await messages.insert_inbound(
                    uow,
                    business=business,
                    lead_id=call.lead_id,
                    phone=call.caller,
                    direction=Direction.INBOUND,
                    purpose="voicemail",
                    body=text,
                    business_number=call.called,
                    provider=provider,
                    source_key=source_key,
                    status=str(MessageStatus.RECEIVED),
                    status_rank=MessageStatus.RECEIVED.rank,
                    created_at=now,
                )
                await uow.run(
                    lead_rows.record(
                        uow.dialect, call.lead_id, "voicemail_transcript", at=now,
                        actor="customer", call_id=call.id, message_id=message.id,
                    )
                )  # fmt: skip
                await uow.run(
                    self.notifications.emit(
                        settings, EventKind.MESSAGE_RECEIVED, call.lead_id,
                        cause=f"message:{message.id}", version=0,
                        data={"actor": "customer", "message_id": message.id},
                    )
                )  # fmt: skip
                await uow.run(
                    self.jobs.enqueue(
                        PROCESS_TRANSCRIPT,
                        {"message_id": message.id, "spoken_at": call.at.isoformat()},
                        dedupe_key=f"{PROCESS_TRANSCRIPT}:{message.id}",
                        business=business,
                    )
                )
        except IntegrityError:
            return False  # the same transcript, delivered twice at once: the other one won
        return True

    async def run_process_transcript(self, job: ClaimedJob) -> None:
        """Read a transcript into its lead, then take the conversation's next step."""
        message = await messages.get(job.payload["message_id"])
        if message is None or message.lead_id is None:
            raise Discard("the transcript or its lead no longer exists")
        lead, business = await lead_for_job(self.businesses, message.lead_id)
        spoken_at = datetime.fromisoformat(job.payload["spoken_at"])
        found, sources = await self.replies.parse(
            business, normalise(message.body), spoken_at, f"voicemail {message.id}"
        )
        waiting = await Job.exists(dedupe_key=text_back_key(lead.id))
        texted = await messages.last_outbound(lead.id) is not None
        async with self.db.transaction() as uow:
            current = await lead_rows.get(lead.id, using=uow.connection)
            if current is None:
                return
            fields: dict[str, Any] = {
                name: getattr(found, name)
                for name in LEAD_FIELDS
                if getattr(found, name) is not None and not getattr(current, name)
            }
            actors = {name: sources.get(name, "parser") for name in fields}
            if found.callback is not None and current.callback_start is None:
                fields["callback_start"] = found.callback.start
                fields["callback_end"] = found.callback.end
                actors["callback_start"] = sources.get("callback", "parser")
            await self.leads.change(
                uow, current, actor="parser", fields=fields, field_actors=actors,
                message_id=message.id,
            )  # fmt: skip
            if texted:
                await self.replies.next_step(uow, business, current, message)
                return
            if current.urgency == "emergency":
                await self.followups.alert_owner(uow, business, current.id)
            missing = [name for name in ("service", "zip") if not getattr(current, name)]
            if not waiting or not missing:
                await self.followups.send_summary(uow, business, current.id)
