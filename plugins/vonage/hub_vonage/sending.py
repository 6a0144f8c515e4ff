"""Sending texts through Vonage's SMS API or Messages API with the official SDK.

This is the one module of the sender that imports the SDK (a third of a second of imports);
the sender imports it when it starts, so ``hub check`` and ``hub simulate`` never pay for it.
The SDK is synchronous: sends run in worker threads, each with a client of its own
(``hub_vonage.clients``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from pydantic import ValidationError
from vonage_http_client import HttpRequestError
from vonage_messages import Sms as MessagesSms
from vonage_sms import PartialFailureError, SmsError, SmsMessage
from vonage_utils import VonageError

from hub import RecipientIssue, SendResult, is_gsm7
from hub_vonage.clients import Clients, redact_sdk_logs
from hub_vonage.config import VonageSenderConfig
from hub_vonage.webhooks import text_of

log = logging.getLogger("hub.plugins.vonage")

#: SMS API send-time ``messages[].status`` worth retrying: throttled, internal error.
SMS_RETRY_STATUSES = {"1": 1.0, "5": None}
#: ... that are about the recipient: 6 "invalid message" (an unroutable number prefix), 7 "number
#: barred" (Vonage's list of numbers that asked not to be texted).
SMS_SEND_ISSUES = {"6": RecipientIssue.CANNOT_RECEIVE, "7": RecipientIssue.OPTED_OUT}


class Sending:
    """One sender's SDK clients, and the two ways to send (each blocking: run in a thread)."""

    def __init__(self, config: VonageSenderConfig) -> None:
        redact_sdk_logs()
        self.clients = Clients(config)

    def close(self) -> None:
        self.clients.close()

    def send_sms(
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

    def send_messages(
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


# -- what an answer means --------------------------------------------------------------------------


def _sms_error(data: Mapping[str, Any]) -> SendResult:
    """A rejected SMS API send (HTTP 200, non-zero ``messages[0].status``)."""
    messages = data.get("messages") if isinstance(data.get("messages"), list) else []
    first = messages[0] if messages and isinstance(messages[0], Mapping) else {}
    code = text_of(first.get("status")) or "unknown"
    reason = text_of(first.get("error-text")) or "rejected"
    error = f"SMS API status {code}: {reason}"
    if code in SMS_RETRY_STATUSES:
        return SendResult.retry(error, error_code=code, retry_after=SMS_RETRY_STATUSES[code])
    return SendResult.failed(error, error_code=code, recipient_issue=SMS_SEND_ISSUES.get(code))


def _sms_partial(data: Mapping[str, Any]) -> SendResult:
    """Some parts of a long text went out: it cannot be unsent, and resending would repeat them."""
    messages = [m for m in data.get("messages", []) if isinstance(m, Mapping)]
    sent = [m for m in messages if text_of(m.get("status")) == "0" and m.get("message-id")]
    if not sent:
        return _sms_error(data)
    log.warning(
        "only %d of %d parts of a text were accepted by the SMS API", len(sent), len(messages)
    )
    return SendResult.sent(text_of(sent[0].get("message-id")))


def _http_error(exc: HttpRequestError, api: str) -> SendResult:
    response = exc.response
    status = response.status_code
    detail = ""
    try:
        body = response.json()
        if isinstance(body, Mapping):
            detail = " ".join(
                text_of(body.get(k)) for k in ("title", "detail") if text_of(body.get(k))
            )
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
