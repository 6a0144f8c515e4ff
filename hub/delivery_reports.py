"""Delivery reports from providers. They only ever move a text's status forward, whatever
order they come in; a text that was not delivered tells the owner to call the customer."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from hub.clock import Clock
from hub.config import Business
from hub.exceptions import check_provider_id
from hub.models import Message
from hub.notifications import Notifications
from hub.store import contacts, leads, messages
from hub.store.db import Database, UnitOfWork
from hub.store.errors import Duplicate
from hub.texting import Texting
from hub.types import DeliveryReport, MessageStatus

log = logging.getLogger("hub.delivery_reports")


class DeliveryReports:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        businesses: Mapping[str, Business],
        texting: Texting,
        notifications: Notifications,
    ) -> None:
        self.db = db
        self.clock = clock
        self.businesses = businesses
        self.texting = texting
        self.notifications = notifications

    async def receive_delivery_report(
        self, business: Business, provider: str, report: DeliveryReport
    ) -> None:
        check_provider_id(report.message_id, "the text's id")
        event_key = f"status:{report.message_id}:{report.status}:{report.error_code or ''}"[:255]
        try:
            async with self.db.transaction() as uow:
                await contacts.record_event(uow, business.slug, provider, event_key)
                message = await messages.by_provider_id(
                    uow, business.slug, provider, report.message_id
                )
                if message is None:
                    # A report relayed by another of the business's webhooks (the generic
                    # source takes a gateway's reports) names a text its own senders sent.
                    message = await messages.by_sender_id(
                        uow, business.slug, business.sender_names(), report.message_id
                    )
                if message is None:
                    log.info(
                        "delivery report for unknown message %s from %s",
                        report.message_id,
                        provider,
                    )
                    return
                await self._record(uow, business, message, report)
        except Duplicate:
            if await contacts.has_event(business.slug, provider, event_key):
                return
            raise

    async def _record(
        self, uow: UnitOfWork, business: Business, message: Message, report: DeliveryReport
    ) -> None:
        updated = await messages.advance_status(
            uow, message.id, str(report.status), report.status.rank, report.error_code
        )
        reason = None
        if report.recipient_issue is not None:
            reason = await self.texting.apply_recipient_issue(
                uow,
                business,
                message.phone,
                report.recipient_issue,
                f"delivery report {report.error_code or report.status}",
            )
        lead_id = message.lead_id
        failed = report.status in {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
        if not (updated and failed and lead_id):
            return
        await uow.run(
            leads.record(
                uow.dialect,
                lead_id,
                "text_undelivered",
                at=self.clock.now(),
                message_id=message.id,
                error_code=report.error_code,
            )
        )
        # The customer never got our text: the owner has to call them.
        reason = reason or f"our text was not delivered (error {report.error_code or 'unknown'})"
        await uow.run(
            self.notifications.enqueue(
                business, lead_id, "cannot_text", {"reason": reason}, cause=f"message:{message.id}"
            )
        )
