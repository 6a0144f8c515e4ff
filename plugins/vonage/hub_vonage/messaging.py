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
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from vonage_http_client import HttpRequestError
from vonage_messages import Sms as MessagesSms
from vonage_sms import PartialFailureError, SmsError, SmsMessage
from vonage_utils import VonageError

from hub import (
    DeliveryReport,
    InboundSms,
    MessageStatus,
    OutboundSms,
    RecipientIssue,
    Refused,
    SendResult,
    SmsSender,
)
from hub.segments import is_gsm7
from hub_vonage.clients import Clients, redact_sdk_logs
from hub_vonage.config import VonageSenderConfig
from hub_vonage.multipart import Part, PartStore, join
from hub_vonage.webhooks import BadWebhook, Verifier, Webhook, parse_time, read, to_core, to_vonage
from hub_vonage.webhooks import without_signature as _record

log = logging.getLogger("hub.plugins.vonage")

CONCAT_FLUSH = "vonage_concat_flush"

# -- what Vonage's codes mean to the hub (protocols.md F.2, F.4) ----------------------------------

#: SMS API send-time ``messages[].status`` worth retrying: throttled, internal error.
SMS_RETRY_STATUSES = {"1": 1.0, "5": None}
#: ... that are about the recipient: 6 "invalid message" (an unroutable number prefix), 7 "number
#: barred" (Vonage's list of numbers that asked not to be texted).
SMS_SEND_ISSUES = {"6": RecipientIssue.CANNOT_RECEIVE, "7": RecipientIssue.OPTED_OUT}
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


class VonageSender(SmsSender):
    name = "vonage"
    description = "Vonage SMS API or Messages API, with inbound texts and delivery receipts"
    Config = VonageSenderConfig
    config: VonageSenderConfig

    def __init__(self, config: VonageSenderConfig, context: Any) -> None:
        super().__init__(config, context)
        self.verify = Verifier(config, context)
        self.clients = Clients(config)
        self.parts = PartStore(context.hub.db, context.business.slug)

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        redact_sdk_logs()
        await self.parts.ensure_table()
        if not self.verify.enabled:
            log.warning(
                "vonage sender of %r has no signature_secret: inbound texts and receipts are "
                "not verified",
                self.context.business.slug,
            )

    async def close(self) -> None:
        self.clients.close()

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
        ref = str(sms.reference)
        if self.config.api == "messages":
            status_url = self.context.webhook_url("sms-status")
            return await asyncio.to_thread(
                self._send_messages, to, sender, sms.body, ref, status_url
            )
        status_url = self.context.webhook_url("sms-status")
        # The SMS API's limit; beyond it the account-level delivery receipt URL applies.
        callback = status_url if len(status_url) <= 100 else None
        return await asyncio.to_thread(self._send_sms, to, sender, sms.body, ref, callback)

    def _send_sms(
        self, to: str, sender: str, body: str, ref: str, callback: str | None
    ) -> SendResult:
        try:
            message = SmsMessage(
                to=to,
                from_=sender,
                text=body,
                client_ref=ref,
                status_report_req=True,
                callback=callback,
                type=None if is_gsm7(body) else "unicode",
            )
        except ValidationError as exc:
            return SendResult.failed(f"not a valid SMS API message: {_first_error(exc)}")
        with self.clients.sms.client() as client:
            try:
                response = client.sms.send(message)
            except PartialFailureError as exc:
                data = exc.response if isinstance(exc.response, Mapping) else {}
                return _sms_partial(data)
            except SmsError:
                return _sms_error(_last_json(client))
            except HttpRequestError as exc:
                return _http_error(exc, "SMS API")
            except requests.RequestException as exc:
                return SendResult.retry(f"SMS API unreachable: {type(exc).__name__}")
            except VonageError as exc:
                return SendResult.failed(f"SMS API: {type(exc).__name__}")
        first = response.messages[0] if response.messages else None
        if first is None or not first.message_id:
            return SendResult.retry("SMS API answered without a message id")
        return SendResult.sent(first.message_id)

    def _send_messages(
        self, to: str, sender: str, body: str, ref: str, status_url: str
    ) -> SendResult:
        try:
            message = MessagesSms(
                to=to, from_=sender, text=body, client_ref=ref, webhook_url=status_url
            )
        except ValidationError as exc:
            return SendResult.failed(f"not a valid Messages API SMS: {_first_error(exc)}")
        with self.clients.messages.client() as client:
            try:
                response = client.messages.send(message)
            except HttpRequestError as exc:
                return _http_error(exc, "Messages API")
            except requests.RequestException as exc:
                return SendResult.retry(f"Messages API unreachable: {type(exc).__name__}")
            except VonageError as exc:
                return SendResult.failed(f"Messages API: {type(exc).__name__}")
        return SendResult.sent(response.message_uuid)

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
            self.verify.jwt(hook)
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
        message_id, sender = _text(data.get("messageId")), to_core(_text(data.get("msisdn")))
        recipient = to_core(_text(data.get("to")))
        if not message_id or not sender or not recipient:
            log.warning(
                "ignoring an SMS API text for %s without messageId/msisdn/to",
                self.context.business.slug,
            )
            return _ack()
        if _text(data.get("type")).lower() == "binary":
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
                int(_text(data.get("concat-total"))),
                int(_text(data.get("concat-part"))),
            )
            ref = _text(data.get("concat-ref"))
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
        hub = self.context.hub
        part = Part(
            message_id=message_id,
            sender=sender,
            recipient=recipient,
            concat_ref=ref,
            total=total,
            part=number,
            body=text,
            raw=_record(data),
            received_ms=hub.clock.now_ms(),
        )
        complete = await self.parts.add(part)
        if complete is not None:
            await self._pass_on(complete)
            await hub.cancel_jobs([_flush_key(self.context.business.slug, part)])
            return _ack()
        run_at = hub.clock.now_ms() + self.config.concat_wait * 1000
        await hub.enqueue(
            CONCAT_FLUSH,
            {
                "business": self.context.business.slug,
                "sender": sender,
                "concat_ref": ref,
                "total": total,
            },
            run_at_ms=run_at,
            dedupe_key=_flush_key(self.context.business.slug, part),
            business=self.context.business.slug,
        )
        return _ack()

    async def flush_parts(self, sender: str, concat_ref: str, total: int) -> None:
        """Pass on a multipart text whose missing parts did not come in time."""
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
        await self.parts.finish(parts, now_ms=self.context.hub.clock.now_ms())

    async def _messages_inbound(self, data: dict[str, Any]) -> Response:
        if _text(data.get("channel")).lower() not in {"", "sms"} or _text(
            data.get("message_type")
        ) not in {"", "text"}:
            return _ack()  # WhatsApp, MMS images...: not a text for this hub
        message_id = _text(data.get("message_uuid"))
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
            self.verify.jwt(hook)
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
    message_id = _text(data.get("messageId"))
    status = DLR_STATUSES.get(_text(data.get("status")).lower())
    if not message_id or status is None:  # "unknown" says nothing
        return None
    code = _text(data.get("err-code"))
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
    message_id = _text(data.get("message_uuid"))
    status = MESSAGES_STATUSES.get(_text(data.get("status")).lower())
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
        match = re.search(r"(\d{3,5})$", _text(error.get(key)))
        if match:
            return match.group(1)
    return None


def _is_messages_api(hook: Webhook) -> bool:
    return hook.shape == "json" and ("message_uuid" in hook.params or "channel" in hook.params)


# -- send results ---------------------------------------------------------------------------------


def _sms_error(data: Mapping[str, Any]) -> SendResult:
    """A rejected SMS API send (HTTP 200, non-zero ``messages[0].status``)."""
    messages = data.get("messages") if isinstance(data.get("messages"), list) else []
    first = messages[0] if messages and isinstance(messages[0], Mapping) else {}
    code = _text(first.get("status")) or "unknown"
    reason = _text(first.get("error-text")) or "rejected"
    error = f"SMS API status {code}: {reason}"
    if code in SMS_RETRY_STATUSES:
        return SendResult.retry(error, error_code=code, retry_after=SMS_RETRY_STATUSES[code])
    return SendResult.failed(error, error_code=code, recipient_issue=SMS_SEND_ISSUES.get(code))


def _sms_partial(data: Mapping[str, Any]) -> SendResult:
    """Some parts of a long text went out: it cannot be unsent, and resending would repeat them."""
    messages = [m for m in data.get("messages", []) if isinstance(m, Mapping)]
    sent = [m for m in messages if _text(m.get("status")) == "0" and m.get("message-id")]
    if not sent:
        return _sms_error(data)
    log.warning(
        "only %d of %d parts of a text were accepted by the SMS API", len(sent), len(messages)
    )
    return SendResult.sent(_text(sent[0].get("message-id")))


def _http_error(exc: HttpRequestError, api: str) -> SendResult:
    response = exc.response
    status = response.status_code
    detail = ""
    try:
        body = response.json()
        if isinstance(body, Mapping):
            detail = " ".join(_text(body.get(k)) for k in ("title", "detail") if _text(body.get(k)))
    except ValueError:
        pass
    error = f"{api} HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429 or status >= 500:
        return SendResult.retry(
            error, error_code=str(status), retry_after=_retry_after(response.headers)
        )
    return SendResult.failed(error, error_code=str(status))


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: leave it to the hub's backoff


def _last_json(client: Any) -> Mapping[str, Any]:
    # The SDK's SmsError carries only text; the response it came from is on the client, which
    # this thread has to itself (see clients.ClientPool).
    try:
        data = client.http_client.last_response.json()
    except Exception:
        return {}
    return data if isinstance(data, Mapping) else {}


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_input=False, include_url=False)[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"


# -- little things --------------------------------------------------------------------------------


def _flush_key(business: str, part: Part) -> str:
    return f"{CONCAT_FLUSH}:{business}:{part.sender}:{part.concat_ref}:{part.total}"


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _ack() -> Response:
    return Response(status_code=204)
