"""Test helpers for Twilio setups, on top of the core's kit (``hub.testing``).

The same shape as every provider kit (``hub_vonage.testing`` too): ``FakeTwilio`` (a
``hub.testing.FakeProviderApi``), ``signed_webhook(...)`` and ``CallDriver``, plus
``business_settings(fake)``.

- ``FakeTwilio``: Twilio's REST API on 127.0.0.1 (real HTTP, its own thread): Messages create
  and list (``To``, ``From``, ``DateSent`` filters) and Lookup v2, in the JSON shapes the SDK
  parses, errors included (``{"code", "message", "status"}``). It checks Basic auth, records
  every request, and plays scripted answers first (``twilio_error(21610)``,
  ``ScriptedResponse(status=503)``, ``ScriptedResponse(delay=2)``). ``answer_delay`` makes
  it accept a text and then hang before answering, as a slow Twilio does.
- ``TwilioWebhooks``: correctly signed Twilio webhooks (signatures from the SDK's own
  ``RequestValidator``) over the *public* URL, posted to wherever the hub really listens;
  ``TwilioCall`` builds the forms Twilio sends for one call.
- ``signed_webhook(route, form)``: one signed webhook, a ``hub.testing.WebhookRequest``;
- ``CallDriver(client)``: whole calls and texts as Twilio plays them (``missed_call``,
  ``answered_call``, ``reply``, ``delivery_report``);
- ``twilio_business(...)`` (also ``business_settings``): hub.yaml settings for a business on
  Twilio, pointed at a fake;
- ``twilio_hub(...)``: an ``InProcessHub`` on Twilio with a webhook builder for it;
- the ``fake_twilio`` fixture (``pytest_plugins = ["hub.testing", "hub_twilio.testing"]``).

Example::

    async def test_missed_call(hub_dir, fake_twilio):
        async with twilio_hub(hub_dir, fake_twilio) as (kit, hooks):
            await CallDriver(kit.client, hooks).missed_call("+15125550123")
            await kit.run_due_jobs()
            assert [text.to for text in fake_twilio.sent] == ["+15125550123"]
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import operator
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from twilio.request_validator import (
    HMAC_SHA1,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
)

from hub.testing import (
    PUBLIC_URL,
    CallTrace,
    Clock,
    FakeProviderApi,
    InProcessHub,
    ManualClock,
    RecordedRequest,
    ScriptedResponse,
    SentSms,
    WebhookRequest,
    business,
    in_process_hub,
    write_config,
)
from hub.testing import CallDriver as BaseCallDriver

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # noqa: S105 - a test token
DEFAULT_NUMBER = "+15125550100"
DEFAULT_OWNER = "+15125550199"
DEFAULT_CALLER = "+15125550123"
#: Tuesday, 12:00 in Austin: open, and inside every quiet-hours window, whenever tests run.
WEEKDAY_NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)

Params = Mapping[str, str | list[str]]


def sid(prefix: str) -> str:
    """A random Twilio SID: ``CA…``, ``SM…``, ``RE…``."""
    return prefix + secrets.token_hex(16)


def twilio_error(
    code: int, status: int = 400, message: str | None = None, *, delay: float = 0.0
) -> ScriptedResponse:
    """A scripted Twilio API error, in the body shape that gives ``TwilioRestException.code``."""
    text = message or {
        21610: "Attempt to send to unsubscribed recipient",
        21614: "'To' number is not a valid mobile number",
        21635: "'To' number cannot be a landline",
        20429: "Too Many Requests",
    }.get(code, "Error")
    body = {
        "code": code,
        "message": text,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return ScriptedResponse(status=status, body=body, delay=delay)


# -- the fake REST API ----------------------------------------------------------------------------


class FakeTwilio(FakeProviderApi):
    """Twilio's Messages and Lookup API on 127.0.0.1.

    ``opted_out`` numbers answer a create with 21610, as Twilio does after they texted STOP;
    ``line_types`` sets what Lookup says of a number (default ``mobile``). ``texts`` holds the
    forms of the messages it accepted, in order.

    ``answer_delay`` (seconds): a create is accepted (the text is in ``texts``, and listed) and
    only answered this much later, or when the fake stops: the sender's timeout, not the fake,
    decides when the hub stops waiting.
    """

    def __init__(
        self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.opted_out: set[str] = set()
        self.line_types: dict[str, str] = {}
        self.texts: list[dict[str, str]] = []
        self.answer_delay = 0.0
        self._sids: list[str] = []
        self._records: list[dict[str, Any]] = []
        self._stopping = threading.Event()

    @property
    def sent(self) -> list[SentSms]:
        return [
            SentSms(form["To"], form.get("From"), form["Body"], message_sid)
            for form, message_sid in zip(self.texts, self._sids, strict=True)
        ]

    def __repr__(self) -> str:
        return f"<FakeTwilio {self.url}>"

    @property
    def creates(self) -> list[RecordedRequest]:
        """Every Messages create request, answered with success or not."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    @property
    def lookups(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/v2/PhoneNumbers/")]

    @property
    def listings(self) -> list[RecordedRequest]:
        """Every Messages list request (the sender asking whether a text went out)."""
        return [r for r in self.requests if r.method == "GET" and r.path.endswith("/Messages.json")]

    def stop(self) -> None:
        self._stopping.set()  # answers still hanging go out now
        super().stop()

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        if request.headers.get("authorization") != self._auth:
            return _error(20003, 401, "Authentication Error - invalid username")
        path = request.url.path
        messages = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if request.method == "POST" and path == messages:
            response = self._create(recorded.form)
            if self.answer_delay and response.status_code == 201:
                await self._hang(self.answer_delay)
            return response
        if request.method == "GET" and path == messages:
            return self._list(request.query_params, messages)
        if request.method == "GET" and path.startswith("/v2/PhoneNumbers/"):
            return self._lookup(path.removeprefix("/v2/PhoneNumbers/"))
        return _error(20404, 404, f"The requested resource {path} was not found")

    def _create(self, form: dict[str, str]) -> Response:
        to = form.get("To", "")
        if not to or not form.get("Body"):
            return _error(
                21602 if to else 21604, 400, "A 'To' phone number and a 'Body' are required"
            )
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error(21603, 400, "A 'From' phone number is required")
        if to in self.opted_out:
            return _error(21610, 400, "Attempt to send to unsubscribed recipient")
        message_sid = sid("SM")
        self._sids.append(message_sid)
        self.texts.append(form)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}"
        now = format_datetime(datetime.now(UTC))
        body: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": now,  # the fake hands texts on at once
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        self._records.append(body)
        return JSONResponse(body, status_code=201)

    async def _hang(self, seconds: float) -> None:
        # Until the delay is over or the fake stops: a stopping fake never waits on a hang.
        await asyncio.to_thread(self._stopping.wait, seconds)

    def _list(self, query: Mapping[str, str], path: str) -> Response:
        """Messages list, newest first, filtered as Twilio filters: ``To``, ``From``, and
        ``DateSent`` (``DateSent``, ``DateSent<``, ``DateSent>`` with a date or a time)."""
        try:
            page_size = min(1000, max(1, int(query.get("PageSize", "50"))))
        except ValueError:
            return _error(20001, 400, "Invalid PageSize")
        found = []
        for record in reversed(self._records):
            if "To" in query and record["to"] != query["To"]:
                continue
            if "From" in query and record["from"] != query["From"]:
                continue
            sent = _rfc2822(record["date_sent"])
            if not _date_sent_matches(query, sent):
                continue
            found.append(record)
        page = found[:page_size]
        return JSONResponse(
            {
                "messages": page,
                "end": max(0, len(page) - 1),
                "first_page_uri": f"{path}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{path}?PageSize={page_size}&Page=0",
            }
        )

    def _lookup(self, phone: str) -> Response:
        line_type = self.line_types.get(phone, "mobile")
        body = {
            "calling_country_code": "1",
            "country_code": "US",
            "phone_number": phone,
            "national_format": phone,
            "valid": True,
            "validation_errors": [],
            "caller_name": None,
            "sim_swap": None,
            "call_forwarding": None,
            "line_status": None,
            "line_type_intelligence": {
                "carrier_name": "Fake Carrier",
                "error_code": None,
                "mobile_country_code": "310",
                "mobile_network_code": "456",
                "type": line_type,
            },
            "identity_match": None,
            "reassigned_number": None,
            "sms_pumping_risk": None,
            "phone_number_quality_score": None,
            "pre_fill": None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{phone}",
        }
        return JSONResponse(body)


def _rfc2822(text: str) -> datetime:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(text)


def _date_sent_matches(query: Mapping[str, str], sent: datetime) -> bool:
    compares: list[tuple[str, Callable[[Any, Any], bool]]] = [
        ("DateSent", operator.eq),
        ("DateSent<", operator.le),
        ("DateSent>", operator.ge),
    ]
    for key, compare in compares:
        value = query.get(key)
        if not value:
            continue
        if "T" in value:  # a time: compared as a time
            bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if not compare(sent, bound):
                return False
        elif not compare(sent.date().isoformat(), value):  # a date: compared as a day
            return False
    return True


def _error(code: int, status: int, message: str) -> Response:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


# -- signed webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    #: The URL Twilio requested (under ``public_url``); the signature covers it.
    url: str
    #: Path and query to send to the server the hub really listens on.
    target: str
    body: bytes
    headers: dict[str, str]


class TwilioWebhooks:
    """Builds and posts Twilio webhooks for one business, signed as Twilio signs them.

    ``public_url`` is the hub's configured ``public_url`` (what Twilio calls, and signs);
    requests go to the client's own base URL, which may differ (a TLS-terminating proxy).
    """

    def __init__(
        self,
        public_url: str,
        business: str = "acme",
        *,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        number: str = DEFAULT_NUMBER,
        owner: str = DEFAULT_OWNER,
        plugin: str = "twilio",
        clock: Clock | None = None,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.clock = clock or Clock()
        self.business = business
        self.account_sid = account_sid
        self.number = number
        self.owner = owner
        self.plugin = plugin
        self._validator = RequestValidator(auth_token)

    def __repr__(self) -> str:
        return f"<TwilioWebhooks {self.public_url} {self.business!r}>"

    def url(self, route: str, **query: str) -> str:
        url = f"{self.public_url}/hooks/{self.business}/{self.plugin}/{route.lstrip('/')}"
        return f"{url}?{urlencode(query)}" if query else url

    def sign(
        self,
        route_or_url: str,
        params: Params,
        *,
        algorithm: str = HMAC_SHA1,
        shared_key: tuple[str, str] | None = None,
        signature: str | None = None,
    ) -> SignedRequest:
        """``route_or_url`` is a route name (``"voice"``) or a full URL the hub gave Twilio (a
        ``<Dial action>``). ``shared_key=(id, secret)`` signs as a Webhook Rule does."""
        url = route_or_url if "://" in route_or_url else self.url(route_or_url)
        if not url.startswith(self.public_url + "/"):
            raise ValueError(f"{url} is not under {self.public_url}")
        items = [
            (k, v)
            for k, values in params.items()
            for v in ([values] if isinstance(values, str) else values)
        ]
        body = urlencode(items).encode()
        validator = RequestValidator(shared_key[1]) if shared_key else self._validator
        form = _MultiDict(items)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            SIGNATURE_HEADER: (
                validator.compute_signature(url, form, algorithm)
                if signature is None
                else signature
            ),
        }
        if shared_key is not None:
            headers[SIGNATURE_SETTINGS_HEADER] = f"key={shared_key[0]},algorithm={algorithm}"
        parts = urlsplit(url)
        public_path = urlsplit(self.public_url).path
        target = parts.path.removeprefix(public_path) + (f"?{parts.query}" if parts.query else "")
        return SignedRequest(url, target, body, headers)

    async def post(
        self, client: httpx.AsyncClient, route_or_url: str, params: Params, **sign_options: Any
    ) -> httpx.Response:
        """Sign and post one webhook through ``client`` (e.g. ``InProcessHub.client``)."""
        return await self.request(route_or_url, params, **sign_options).send(client)

    def request(self, route_or_url: str, params: Params, **sign_options: Any) -> WebhookRequest:
        """``sign`` as a ``WebhookRequest``, the shape every provider kit's webhooks take."""
        signed = self.sign(route_or_url, params, **sign_options)
        return WebhookRequest("POST", signed.target, signed.headers, signed.body)

    # -- forms ------------------------------------------------------------------------------------

    def call(
        self,
        caller: str = DEFAULT_CALLER,
        *,
        called: str | None = None,
        forwarded_from: str | None = None,
        call_sid: str | None = None,
    ) -> TwilioCall:
        """One inbound call to the business's Twilio number."""
        return TwilioCall(
            sid=call_sid or sid("CA"),
            caller=caller,
            called=called or self.number,
            account_sid=self.account_sid,
            owner=self.owner,
            forwarded_from=forwarded_from,
            clock=self.clock,
        )

    def sms(
        self,
        sender: str = DEFAULT_CALLER,
        body: str = "Hi",
        *,
        to: str | None = None,
        opt_out_type: str | None = None,
        message_sid: str | None = None,
        **extra: str,
    ) -> dict[str, str]:
        """An inbound text, as Twilio posts it to the number's "A message comes in" URL."""
        message_sid = message_sid or sid("SM")
        form = {
            "ToCountry": "US",
            "ToState": "TX",
            "SmsMessageSid": message_sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": message_sid,
            "FromState": "TX",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US",
            "To": to or self.number,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        if opt_out_type is not None:
            form["OptOutType"] = opt_out_type
        form.update(extra)
        return form

    def sms_status(
        self,
        message_sid: str,
        status: str,
        *,
        to: str = DEFAULT_CALLER,
        sender: str | None = None,
        error_code: str | None = None,
    ) -> dict[str, str]:
        """A message status callback (``StatusCallback`` of a sent text)."""
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": sender or self.number,
            "MessageSid": message_sid,
            "MessageStatus": status,
            "SmsSid": message_sid,
            "SmsStatus": status,
            "To": to,
        }
        if error_code is not None:
            form["ErrorCode"] = error_code
        if status in {"delivered", "undelivered"}:
            form["RawDlrDoneDate"] = self.clock.now().strftime("%y%m%d%H%M")
        return form


@dataclass
class TwilioCall:
    """The forms Twilio posts over the life of one inbound call (the parent leg ``sid``) and
    the leg it dials to the owner (``child_sid``)."""

    sid: str
    caller: str
    called: str
    account_sid: str = DEFAULT_ACCOUNT_SID
    owner: str = DEFAULT_OWNER
    forwarded_from: str | None = None
    child_sid: str = field(default_factory=lambda: sid("CA"))
    #: Where ``Timestamp`` fields come from: the hub's clock, when a test moves time.
    clock: Clock = field(default_factory=Clock)

    def _base(self, call_status: str) -> dict[str, str]:
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": call_status,
            "Called": self.called,
            "CalledCity": "",
            "CalledCountry": "US",
            "CalledState": "TX",
            "CalledZip": "",
            "Caller": self.caller,
            "CallerCity": "",
            "CallerCountry": "US",
            "CallerState": "TX",
            "CallerZip": "",
            "Direction": "inbound",
            "From": self.caller,
            "FromCity": "",
            "FromCountry": "US",
            "FromState": "TX",
            "FromZip": "",
            "To": self.called,
            "ToCity": "",
            "ToCountry": "US",
            "ToState": "TX",
            "ToZip": "",
        }
        if self.forwarded_from is not None:
            form["ForwardedFrom"] = self.forwarded_from
        return form

    def voice(self, **extra: str) -> dict[str, str]:
        """The number's "A call comes in" request."""
        return {**self._base("ringing"), **extra}

    def dial(
        self,
        dial_status: str = "no-answer",
        *,
        bridged: bool | None = None,
        duration: int = 0,
        call_status: str = "in-progress",
        **extra: str,
    ) -> dict[str, str]:
        """The ``<Dial action>`` request once the owner's leg ended."""
        if bridged is None:
            bridged = dial_status == "completed"
        form = {
            **self._base(call_status),
            "DialCallSid": self.child_sid,
            "DialCallStatus": dial_status,
            "DialBridged": "true" if bridged else "false",
        }
        if dial_status == "completed":
            form["DialCallDuration"] = str(duration)
        return {**form, **extra}

    def status(
        self,
        call_status: str = "completed",
        *,
        duration: int = 0,
        at: datetime | None = None,
        sequence: int = 1,
        **extra: str,
    ) -> dict[str, str]:
        """The call's own status callback (the number's "Call status changes" URL)."""
        form = {
            **self._base(call_status),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(sequence),
            "Timestamp": format_datetime(at or self.clock.now()),
        }
        if call_status in {"completed", "busy", "failed", "no-answer", "canceled"}:
            form["CallDuration"] = str(duration)
            form["Duration"] = str(max(1, (duration + 59) // 60)) if duration else "0"
        return {**form, **extra}

    def _owner_leg(self, call_status: str) -> dict[str, str]:
        form = self._base(call_status)
        form.update(
            {
                "CallSid": self.child_sid,
                "ParentCallSid": self.sid,
                "Direction": "outbound-dial",
                "To": self.owner,
                "Called": self.owner,
            }
        )
        return form

    def owner_status(self, call_status: str = "in-progress", **extra: str) -> dict[str, str]:
        """A status callback of the owner's leg (``<Number statusCallback>``)."""
        form = {
            **self._owner_leg(call_status),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
            "Timestamp": format_datetime(self.clock.now()),
        }
        return {**form, **extra}

    def screen(self, **extra: str) -> dict[str, str]:
        """The ``<Number url>`` request, when the owner's leg picks up."""
        return {**self._owner_leg("in-progress"), **extra}

    def answered_by(self, answered_by: str = "machine_start", **extra: str) -> dict[str, str]:
        """The ``<Number url>`` request after answering-machine detection listened to the
        owner's leg: ``human``, ``machine_start``, ``machine_end_beep``, ``fax``, ``unknown``..."""
        form = {
            **self._owner_leg("in-progress"),
            "AnsweredBy": answered_by,
            "MachineDetectionDuration": "2400",
        }
        return {**form, **extra}

    def screen_answer(self, digits: str | None = "1", **extra: str) -> dict[str, str]:
        """The screening ``<Gather>``'s action: the owner pressed ``digits``."""
        form = self._owner_leg("in-progress")
        if digits is not None:
            form["Digits"] = digits
            form["FinishedOnKey"] = ""
        return {**form, **extra}

    def recording(
        self, recording_url: str | None = None, *, duration: int = 14, **extra: str
    ) -> dict[str, str]:
        """``<Record>``'s action, after the caller left a message (and hung up)."""
        recording_sid = sid("RE")
        url = (
            recording_url
            or f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}"
        )
        form = {
            **self._base("completed"),
            "RecordingUrl": url,
            "RecordingSid": recording_sid,
            "RecordingDuration": str(duration),
            "Digits": "hangup",
        }
        return {**form, **extra}

    def recording_status(
        self, recording_url: str, *, duration: int = 14, status: str = "completed"
    ) -> dict[str, str]:
        """``<Record recordingStatusCallback>``: no From/To, as Twilio sends it."""
        return {
            "AccountSid": self.account_sid,
            "CallSid": self.sid,
            "RecordingSid": sid("RE"),
            "RecordingUrl": recording_url,
            "RecordingStatus": status,
            "RecordingDuration": str(duration),
            "RecordingChannels": "1",
            "RecordingStartTime": format_datetime(self.clock.now()),
            "RecordingSource": "RecordVerb",
            "ErrorCode": "0",
        }

    def transcription(
        self, text: str, *, status: str = "completed", recording_url: str | None = None
    ) -> dict[str, str]:
        """``<Record transcribeCallback>``: the voicemail's transcript, with the call's
        parameters, as Twilio posts it (``TranscriptionText`` only once ``completed``)."""
        recording_sid = sid("RE")
        transcription_sid = sid("TR")
        base = f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}"
        form = {
            **self._base("completed"),
            "TranscriptionSid": transcription_sid,
            "TranscriptionStatus": status,
            "TranscriptionUrl": f"{base}/Recordings/{recording_sid}/Transcriptions/"
            f"{transcription_sid}",
            "TranscriptionType": "fast",
            "RecordingSid": recording_sid,
            "RecordingUrl": recording_url or f"{base}/Recordings/{recording_sid}",
            "url": "",
        }
        if status == "completed":
            form["TranscriptionText"] = text
        return form


class _MultiDict:
    """Just enough of a multi-dict for ``RequestValidator`` to sign repeated fields."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for key, _ in self._items))

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self._items if name == key]


# -- configuration --------------------------------------------------------------------------------


def twilio_business(
    fake: FakeTwilio | None = None,
    mode: str = "forward",
    *,
    call_options: Mapping[str, Any] | None = None,
    sender_options: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """hub.yaml settings for a business whose calls and texts go through Twilio (the fake's
    API when ``fake`` is given): number +15125550100, owner's phone +15125550199, open around
    the clock, the memory sink. ``overrides`` are business settings (``hours=``...)."""
    account = {
        "account_sid": fake.account_sid if fake else DEFAULT_ACCOUNT_SID,
        "auth_token": DEFAULT_AUTH_TOKEN,
    }
    sender: dict[str, Any] = {"use": "twilio", **account, "from": DEFAULT_NUMBER}
    if fake is not None:
        sender["api_base_url"] = fake.url
    sender.update(sender_options or {})
    settings = business(
        numbers=[DEFAULT_NUMBER],
        forward_to=DEFAULT_OWNER,
        call_source={"use": "twilio", **account, "mode": mode, **(call_options or {})},
        sms_sender=sender,
    )
    settings.update(overrides)
    return settings


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running ``FakeTwilio``, stopped after the test."""
    with FakeTwilio() as fake:
        yield fake  # type: ignore[misc]


business_settings = twilio_business


def signed_webhook(
    route: str,
    params: Params,
    *,
    public_url: str = PUBLIC_URL,
    business: str = "acme",
    auth_token: str = DEFAULT_AUTH_TOKEN,
    **sign_options: Any,
) -> WebhookRequest:
    """One Twilio webhook to ``route`` (``"voice"``, ``"sms"``... or a full URL the hub gave
    Twilio), signed with ``auth_token`` over the hub's ``public_url``."""
    hooks = TwilioWebhooks(public_url, business, auth_token=auth_token)
    return hooks.request(route, params, **sign_options)


class CallDriver(BaseCallDriver):
    """Twilio's side of whole calls and texts, against a hub reached through ``client``."""

    provider = "twilio"

    def __init__(
        self,
        client: httpx.AsyncClient,
        webhooks: TwilioWebhooks | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(client)
        self.webhooks = webhooks or TwilioWebhooks(str(client.base_url), clock=clock)
        #: Calls ``voicemail`` played, with the transcript URL the hub gave Twilio.
        self._calls: dict[str, tuple[TwilioCall, str | None]] = {}

    async def _post(self, route: str, params: Params) -> httpx.Response:
        response = await self.webhooks.post(self.client, route, params)
        if response.status_code >= 400:
            raise AssertionError(f"POST {route} → {response.status_code}: {response.text}")
        return response

    async def missed_call(
        self, caller: str | None = DEFAULT_CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """The owner's phone rings out: Twilio runs the ``<Dial action>`` with no-answer."""
        call = self.webhooks.call(caller or "", call_sid=call_id)
        trace = CallTrace(call.sid)
        trace.responses.append(await self._post("voice", call.voice()))
        trace.responses.append(await self._post("dial", call.dial("no-answer")))
        return trace

    async def answered_call(
        self, caller: str | None = DEFAULT_CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """The owner takes the call, talks, and the call ends."""
        call = self.webhooks.call(caller or "", call_sid=call_id)
        trace = CallTrace(call.sid)
        trace.responses.append(await self._post("voice", call.voice()))
        trace.responses.append(await self._post("dial", call.dial("completed", duration=60)))
        trace.responses.append(await self._post("call-status", call.status("completed")))
        return trace

    async def voicemail(
        self, caller: str | None = DEFAULT_CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """Nobody takes the call and the caller leaves a message: the ``<Dial action>`` answers
        with ``<Record>``, whose action Twilio runs when the caller hangs up."""
        call = self.webhooks.call(caller or "", call_sid=call_id)
        trace = CallTrace(call.sid)
        trace.responses.append(await self._post("voice", call.voice()))
        response = await self._post("dial", call.dial("no-answer"))
        trace.responses.append(response)
        record = ET.fromstring(response.text).find("Record")  # noqa: S314 - the hub's own TwiML
        if record is None:
            raise AssertionError("the hub offered no voicemail (<Record>) for a missed call")
        trace.responses.append(await self._post(record.get("action") or "", call.recording()))
        self._calls[call.sid] = (call, record.get("transcribeCallback"))
        return trace

    async def transcript(
        self, call_id: str, text: str, *, status: str = "completed"
    ) -> httpx.Response:
        """Twilio's transcription callback for a voicemail ``voicemail`` left."""
        call, url = self._calls[call_id]
        if not url:
            raise AssertionError("the hub did not ask Twilio for a transcript (transcribe: false)")
        return await self._post(url, call.transcription(text, status=status))

    async def reply(self, caller: str, text: str) -> httpx.Response:
        return await self._post("sms", self.webhooks.sms(caller, text))

    async def delivery_report(self, text: SentSms, status: str = "delivered") -> httpx.Response:
        form = self.webhooks.sms_status(text.provider_id, status, to=text.to)
        return await self._post("sms-status", form)


@contextlib.asynccontextmanager
async def twilio_hub(
    directory: Path,
    fake: FakeTwilio | None = None,
    mode: str = "forward",
    *,
    clock: Clock | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[InProcessHub, TwilioWebhooks]]:
    """An in-process hub with one business, ``acme``, on Twilio (``twilio_business(fake,
    mode, **settings)``), and a webhook builder signing for its public URL.

    Its clock stands still at ``WEEKDAY_NOON`` unless ``clock`` says otherwise: texts wait for
    the recipient's quiet hours to end, and a test must not depend on when it runs.
    """
    config = write_config(directory, {"acme": twilio_business(fake, mode, **settings)})
    kit = in_process_hub(config, clock=clock or ManualClock(WEEKDAY_NOON))
    async with kit:
        yield kit, TwilioWebhooks(kit.url, clock=kit.clock)
