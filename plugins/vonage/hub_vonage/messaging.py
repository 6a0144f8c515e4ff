"""``vonage`` SMS sender: sends through the SMS API or the Messages API, and takes Vonage's
inbound-text and delivery-status webhooks.

Routes, under ``/hooks/{business}/vonage/``:

``sms`` (GET, form POST or JSON POST)
    Inbound texts: the SMS API's webhook in any of the three shapes the dashboard offers
    (signed with ``sig``), or the Messages API's JSON (signed with a JWT). Multipart SMS API
    texts are reassembled (see ``hub_vonage.multipart``).
``sms-status``
    SMS API delivery receipts and Messages API status webhooks → ``DeliveryReport``. The hub
    only ever moves a message's status forward, so out-of-order receipts are harmless.

Vonage re-sends a webhook for 24 hours until it gets a 2xx, so these routes answer 204 to
anything they cannot use (a binary text, an unknown shape, a number of another business) and
leave 5xx to real trouble (the database), where a retry helps. A missing or wrong signature is
refused (401/403) and nothing is stored.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hub import (
    DeliveryReport,
    InboundSms,
    MessageStatus,
    OutboundSms,
    ProviderContext,
    RecipientIssue,
    Refused,
    SendResult,
    SmsSender,
)
from hub_vonage.config import VonageSenderConfig
from hub_vonage.multipart import MAX_PARTS, Part, PartStore, join, plausible
from hub_vonage.webhooks import (
    BadWebhook,
    Verifier,
    Webhook,
    parse_time,
    read,
    text_of,
    to_core,
    to_vonage,
)
from hub_vonage.webhooks import without_signature as _record

if TYPE_CHECKING:
    from hub_vonage.clients import Clients
    from hub_vonage.sending import Sending

log = logging.getLogger("hub.plugins.vonage")

CONCAT_FLUSH = "vonage_concat_flush"

# -- what Vonage's codes mean to the hub (protocols.md F.2, F.4) ----------------------------------

#: Delivery receipt ``err-code``: 9 is the opt-out (Opt-Out Assist); 3 absent subscriber
#: (permanent), 11 unroutable, 12 destination unreachable: the number cannot take texts.
DLR_ISSUES = {
    "9": RecipientIssue.OPTED_OUT,
    "3": RecipientIssue.CANNOT_RECEIVE,
    "11": RecipientIssue.CANNOT_RECEIVE,
    "12": RecipientIssue.CANNOT_RECEIVE,
}
DLR_STATUSES = {
    "accepted": MessageStatus.SENT,
    "buffered": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "expired": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.UNDELIVERED,
    "rejected": MessageStatus.FAILED,
}
#: Messages API status errors (``error.type`` ends ``#<code>``): 1240 "illegal number" is the
#: recipient's STOP; 1170 invalid number, 1190 absent subscriber (permanent), 1250 unroutable,
#: 1260 destination unreachable, 1300/1310 not on the network / device cannot receive.
MESSAGES_ISSUES = {
    "1240": RecipientIssue.OPTED_OUT,
    **{
        code: RecipientIssue.CANNOT_RECEIVE
        for code in ("1170", "1190", "1250", "1260", "1300", "1310")
    },
}
MESSAGES_STATUSES = {
    "submitted": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "rejected": MessageStatus.FAILED,
    "undeliverable": MessageStatus.UNDELIVERED,
}


class VonageSender(SmsSender[VonageSenderConfig]):
    name = "vonage"
    description = "Vonage SMS API or Messages API, with inbound texts and delivery receipts"

    def __init__(self, config: VonageSenderConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.verify = Verifier(config, context)
        self._sending: Sending | None = None
        self.parts = PartStore(context.state)

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self.sending  # noqa: B018  # import the SDK now rather than on the first text
        if not self.verify.enabled:
            log.warning(
                "vonage sender of %r has no signature_secret: inbound texts and receipts are "
                "not verified",
                self.context.business.slug,
            )

    async def close(self) -> None:
        if self._sending is not None:
            self._sending.close()
        self._sending = None

    @property
    def sending(self) -> Sending:
        if self._sending is None:
            from hub_vonage.sending import Sending  # the SDK: only sending needs it

            self._sending = Sending(self.config)
        return self._sending

    @property
    def clients(self) -> Clients:
        return self.sending.clients

    def problems(self) -> list[str]:
        if self.config.api == "messages" and self.config.private_key is not None:
            from vonage import Auth

            try:
                Auth(
                    application_id=self.config.application_id,
                    private_key=self.config.private_key.get_secret_value(),
                ).generate_application_jwt()
            except Exception as exc:  # never echo the key
                return [
                    f"private_key: cannot sign an application JWT with it ({type(exc).__name__})"
                ]
        return []

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/sms", self.inbound, methods=["GET", "POST"]),
            Route("/sms-status", self.status, methods=["GET", "POST"]),
        ]

    # -- sending ----------------------------------------------------------------------------------

    async def send(self, sms: OutboundSms) -> SendResult:
        sender = self.config.from_ or to_vonage(
            sms.sender_number or self.context.business.numbers[0]
        )
        to = to_vonage(sms.to)
        ref = str(sms.reference)  # kept by Vonage as client_ref / client-ref on the record
        status_url = self.context.webhook_url("sms-status")
        if self.config.api == "messages":
            call = functools.partial(
                self.sending.send_messages, to, sender, sms.body, ref, status_url
            )
        else:
            # The SMS API's limit; beyond it the account-level delivery receipt URL applies.
            callback = status_url if len(status_url) <= 100 else None
            call = functools.partial(self.sending.send_sms, to, sender, sms.body, ref, callback)
        # ``requests`` times out each connect and each read, not the whole exchange: a server
        # that answers a byte at a time would hold the send for ever. The hub waits the
        # timeout twice over (a connect and a read), then gives up on the thread, which ends
        # on its own once its socket times out.
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), 2 * self.config.timeout + 1)
        except TimeoutError:
            return SendResult.retry(f"Vonage did not answer within {self.config.timeout}s")

    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        """Vonage cannot say whether a text went out: neither API looks a sent text up by its
        ``client_ref``. The Reports API can (a records query filtered by ``client_ref``), but
        it is a paid product billed per record, whose records may lag the send, so a missing
        record would not mean "not sent". The hub sends again (see the README's guarantees)."""
        raise NotImplementedError

    # -- inbound texts ----------------------------------------------------------------------------

    async def inbound(self, request: Request) -> Response:
        try:
            hook = await read(request)
        except BadWebhook as exc:
            log.warning(
                "ignoring an inbound-text webhook for %s: %s", self.context.business.slug, exc
            )
            return _ack()
        if _is_messages_api(hook):
            await self.verify.jwt(hook)
            return await self._messages_inbound(hook.params)
        if "msisdn" in hook.params or "messageId" in hook.params:
            self.verify.sig(hook)
            return await self._sms_inbound(hook.params)
        log.warning(
            "ignoring an inbound-text webhook for %s: not a shape Vonage sends",
            self.context.business.slug,
        )
        return _ack()

    async def _sms_inbound(self, data: dict[str, Any]) -> Response:
        message_id, sender = text_of(data.get("messageId")), to_core(text_of(data.get("msisdn")))
        recipient = to_core(text_of(data.get("to")))
        if not message_id or not sender or not recipient:
            log.warning(
                "ignoring an SMS API text for %s without messageId/msisdn/to",
                self.context.business.slug,
            )
            return _ack()
        if text_of(data.get("type")).lower() == "binary":
            return _ack()  # ringtones, WAP pushes: nothing a person wrote
        raw_text = data.get("text")
        text = raw_text if isinstance(raw_text, str) else ""
        if _is_true(data.get("concat")):
            return await self._part(data, message_id, sender, recipient, text)
        await self._deliver(
            InboundSms(
                message_id=message_id,
                sender=sender,
                recipient=recipient,
                body=text,
                at=parse_time(data.get("message-timestamp")),
                raw=_record(data),
            )
        )
        return _ack()

    async def _part(
        self, data: dict[str, Any], message_id: str, sender: str, recipient: str, text: str
    ) -> Response:
        try:
            total, number = (
                int(text_of(data.get("concat-total"))),
                int(text_of(data.get("concat-part"))),
            )
            ref = text_of(data.get("concat-ref"))
        except ValueError:
            total, number, ref = 0, 0, ""
        if not ref or total < 1 or not 1 <= number <= total:
            log.warning(
                "multipart text %s for %s has unusable concat fields",
                message_id,
                self.context.business.slug,
            )
            await self._deliver(InboundSms(message_id, sender, recipient, text, raw=_record(data)))
            return _ack()
        if not plausible(total, text):
            # Acknowledged all the same: a 4xx would make Vonage re-send it for a day.
            log.warning(
                "dropping multipart text %s for %s: it claims %d parts (at most %d) or a part "
                "of %d characters",
                message_id,
                self.context.business.slug,
                total,
                MAX_PARTS,
                len(text),
            )
            return _ack()
        part = Part(
            message_id=message_id,
            sender=sender,
            recipient=recipient,
            concat_ref=ref,
            total=total,
            part=number,
            body=text,
            raw=_record(data),
            received_ms=self.context.clock.now_ms(),
        )
        complete = await self.parts.add(part)
        if complete is not None:
            await self._pass_on(complete)
            await self.context.cancel_jobs([_flush_key(self.context.business.slug, part)])
            return _ack()
        await self.context.enqueue(
            CONCAT_FLUSH,
            {
                "business": self.context.business.slug,
                "sender": sender,
                "concat_ref": ref,
                "total": total,
            },
            run_at_ms=self.context.clock.now_ms() + self.config.concat_wait * 1000,
            dedupe_key=_flush_key(self.context.business.slug, part),
        )
        return _ack()

    async def flush_parts(self, sender: str, concat_ref: str, total: int) -> None:
        """Pass on a multipart text whose missing parts did not come in time."""
        if total > MAX_PARTS:  # queued before the webhook refused such claims
            log.warning(
                "dropping multipart text %s for %s: %d parts",
                concat_ref,
                self.context.business.slug,
                total,
            )
            return
        parts = await self.parts.pending(sender, concat_ref, total)
        if parts:
            log.warning(
                "multipart text from %s for %s: passing on %d of %d parts",
                sender,
                self.context.business.slug,
                len(parts),
                total,
            )
            await self._pass_on(parts)

    async def _pass_on(self, parts: list[Part]) -> None:
        first = parts[0]
        await self._deliver(
            InboundSms(
                # The first part's id: stable whichever part completed the text, so two
                # requests that both assembled it count as one in the hub's inbox.
                message_id=first.message_id,
                sender=first.sender,
                recipient=first.recipient,
                body=join(parts),
                at=parse_time(first.raw.get("message-timestamp")),
                raw={"parts": [p.raw for p in parts]},
            )
        )
        await self.parts.finish(parts, now_ms=self.context.clock.now_ms())

    async def _messages_inbound(self, data: dict[str, Any]) -> Response:
        if text_of(data.get("channel")).lower() not in {"", "sms"} or text_of(
            data.get("message_type")
        ) not in {"", "text"}:
            return _ack()  # WhatsApp, MMS images...: not a text for this hub
        message_id = text_of(data.get("message_uuid"))
        sender, recipient = to_core(data.get("from")), to_core(data.get("to"))
        text = data.get("text")
        if not message_id or not sender or not recipient or not isinstance(text, str):
            log.warning(
                "ignoring a Messages API text for %s without message_uuid/from/to/text",
                self.context.business.slug,
            )
            return _ack()
        await self._deliver(
            InboundSms(
                message_id=message_id,
                sender=sender,
                recipient=recipient,
                body=text,
                at=parse_time(data.get("timestamp")),
                raw=_record(data),
            )
        )
        return _ack()

    async def _deliver(self, sms: InboundSms) -> None:
        try:
            await self.context.receive_sms(sms)
        except Refused as exc:
            # Vonage would re-send this for a day; it will not become this business's number.
            log.warning(
                "inbound text %s for %s not taken: %s",
                sms.message_id,
                self.context.business.slug,
                exc.reason,
            )

    # -- delivery reports -------------------------------------------------------------------------

    async def status(self, request: Request) -> Response:
        try:
            hook = await read(request)
        except BadWebhook as exc:
            log.warning("ignoring a status webhook for %s: %s", self.context.business.slug, exc)
            return _ack()
        data = hook.params
        if _is_messages_api(hook):
            await self.verify.jwt(hook)
            report = messages_report(data)
        elif "messageId" in data:
            self.verify.sig(hook)
            report = dlr_report(data)
        else:
            log.warning(
                "ignoring a status webhook for %s: not a shape Vonage sends",
                self.context.business.slug,
            )
            return _ack()
        if report is not None:
            await self.context.receive_delivery_report(report)
        return _ack()


# -- webhook shapes -------------------------------------------------------------------------------


def dlr_report(data: Mapping[str, Any]) -> DeliveryReport | None:
    """An SMS API delivery receipt as a ``DeliveryReport`` (``None``: nothing to record)."""
    message_id = text_of(data.get("messageId"))
    status = DLR_STATUSES.get(text_of(data.get("status")).lower())
    if not message_id or status is None:  # "unknown" says nothing
        return None
    code = text_of(data.get("err-code"))
    failed = status in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}
    return DeliveryReport(
        message_id=message_id,
        status=status,
        error_code=code if code and code != "0" else None,
        recipient_issue=DLR_ISSUES.get(code) if failed else None,
        at=parse_time(data.get("message-timestamp")),
        raw=_record(data),
    )


def messages_report(data: Mapping[str, Any]) -> DeliveryReport | None:
    """A Messages API status webhook as a ``DeliveryReport``."""
    message_id = text_of(data.get("message_uuid"))
    status = MESSAGES_STATUSES.get(text_of(data.get("status")).lower())
    if not message_id or status is None:
        return None
    code = _messages_error_code(data.get("error"))
    failed = status in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}
    return DeliveryReport(
        message_id=message_id,
        status=status,
        error_code=code,
        recipient_issue=MESSAGES_ISSUES.get(code or "") if failed else None,
        at=parse_time(data.get("timestamp")),
        raw=_record(data),
    )


def _messages_error_code(error: Any) -> str | None:
    """``{"type": ".../messages-olympus#1240", "title": "1240", ...}`` → ``"1240"``."""
    if not isinstance(error, Mapping):
        return None
    for key in ("type", "title", "code"):
        match = re.search(r"(\d{3,5})$", text_of(error.get(key)))
        if match:
            return match.group(1)
    return None


def _is_messages_api(hook: Webhook) -> bool:
    return hook.shape == "json" and ("message_uuid" in hook.params or "channel" in hook.params)


# -- little things --------------------------------------------------------------------------------


def _flush_key(business: str, part: Part) -> str:
    return f"{CONCAT_FLUSH}:{business}:{part.sender}:{part.concat_ref}:{part.total}"


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _ack() -> Response:
    return Response(status_code=204)
