"""Texts the hub queues to a lead from a template: answers to the customer's own messages
(help, opt-out and opt-in confirmations, the follow-up question) and staff replies. Each is a
``send_reply`` job, sent through ``Texting`` like every text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.config import Business
from hub.jobs import ClaimedJob
from hub.keys import SEND_REPLY
from hub.leads import lead_for_job
from hub.store.jobs import JobQueue
from hub.store.messages import SendState
from hub.store.step import Step
from hub.templating import Templates, sms_template, template_context
from hub.texting import Texting


class Outbound:
    def __init__(
        self,
        jobs: JobQueue,
        templates: Templates,
        businesses: Mapping[str, Business],
        texting: Texting,
    ) -> None:
        self.jobs = jobs
        self.templates = templates
        self.businesses = businesses
        self.texting = texting

    def queue_text(
        self,
        business: Business,
        lead_id: int,
        template: str,
        *,
        source_key: str,
        sender_number: str | None = None,
        respect_opt_out: bool = True,
        context: dict[str, Any] | None = None,
    ) -> Step[int | None]:
        """Queue a text to a lead from ``templates/sms/TEMPLATE.txt``: a reply, or staff
        writing (``await`` it, or make it part of a unit of work). The job's id, or ``None``
        if this ``source_key`` is already queued."""
        return self.jobs.enqueue(
            SEND_REPLY,
            {
                "lead_id": lead_id,
                "template": template,
                "source_key": source_key,
                "sender_number": sender_number,
                "respect_opt_out": respect_opt_out,
                "context": context or {},
            },
            dedupe_key=f"{SEND_REPLY}:{source_key}",
            business=business.slug,
        )

    async def run_send_reply(self, job: ClaimedJob) -> None:
        lead, business = await lead_for_job(self.businesses, job.payload["lead_id"])
        template = job.payload["template"]
        extra = job.payload["context"]

        def render(state: SendState) -> str:
            name = sms_template(template, business, state.language)
            return self.templates.render(
                name, business, **template_context(name, state.lead, **extra)
            )

        await self.texting.send_text(
            job,
            business,
            lead.id,
            purpose=template,
            body=render,
            source_key=job.payload["source_key"],
            sender_number=job.payload["sender_number"],
            respect_opt_out=job.payload["respect_opt_out"],
        )
