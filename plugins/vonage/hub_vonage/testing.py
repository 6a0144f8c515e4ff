"""Test kit for the ``vonage`` plugin, on top of ``hub.testing``.

The same shape as every provider kit (``hub_twilio.testing`` too): ``FakeVonage`` (a
``hub.testing.FakeProviderApi``), ``signed_webhook(...)`` and ``CallDriver``, plus
``business_settings(fake)``.

- ``FakeVonage`` (formerly ``FakeVonageServer``): Vonage's SMS API (``POST /sms/json``) and
  Messages API (``POST /v1/messages``) on 127.0.0.1 over real HTTP, checking credentials the
  way Vonage does and recording every text; voicemail transcription files
  (``GET /v1/files/{id}``, application JWT required) that ``add_transcription`` stores;
  failure modes through ``script(...)`` (any status, delay or body) and ``reject_next(...)``
  (an SMS API per-message error such as 1 "throttled").
- ``VonageWebhooks``: correctly signed Vonage webhooks (voice events with a JWT, SMS API texts
  and receipts with ``sig`` in all three shapes, Messages API JSON with a JWT), as
  ``WebhookRequest`` values a test sends with any ``httpx`` client.
- ``signed_webhook(route, payload)``: one signed webhook (JWT, or ``sig`` for the SMS API);
- ``CallDriver`` (formerly ``VonageStory``): drives a hub through whole calls and
  conversations the way Vonage would, following the NCCOs the hub returns
  (``missed_call``, ``answered_call``, ``reply``...).
- ``settings(...)`` / ``vonage_business(...)``: hub.yaml settings wired to a fake.

A provider-neutral story test needs only::

    with FakeVonage() as fake:
        async with in_process_hub(write_config(hub_dir, {"acme": vonage_business(fake)})) as kit:
            driver = CallDriver(kit.client, clock=kit.clock)
            await driver.missed_call("+15125550123")
            await kit.run_due_jobs()
            assert [text.to for text in fake.sent] == ["+15125550123"]
            await driver.reply("+15125550123", "Leaking pipe in 78701")
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.testing import CallDriver as BaseCallDriver
from hub.testing import (
    CallTrace as BaseCallTrace,
)
from hub.testing import (
    Clock,
    FakeProviderApi,
    RecordedRequest,
    ScriptedResponse,
    SentSms,
    WebhookRequest,
    business,
)
from hub_vonage.signatures import (
    URL_SIGNATURE,
    SignatureMethod,
    make_jwt,
    sign_sms_params,
    sms_signature,
    url_signature,
)

API_KEY = "abcd1234"
API_SECRET = "test-api-secret-0123"  # noqa: S105 - the fake's, not anyone's
SIGNATURE_SECRET = "test-signature-secret-0123456789"  # noqa: S105
SIGNATURE_METHOD: SignatureMethod = "sha256"
APPLICATION_ID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
NUMBER = "+15125550100"
OWNER = "+15125550199"
CALLER = "+15125550123"


@functools.lru_cache(maxsize=1)
def private_key_pem() -> str:
    """An RSA key for a test Vonage application (made once per test run)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.lru_cache(maxsize=1)
def _public_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_key_pem().encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- hub.yaml -------------------------------------------------------------------------------------


def settings(
    fake: FakeVonage | None = None, *, api: str = "sms", **overrides: Any
) -> dict[str, Any]:
    """Settings for the ``vonage`` call source / sender, pointed at ``fake`` when given."""
    data: dict[str, Any] = {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "signature_secret": SIGNATURE_SECRET,
        "signature_method": SIGNATURE_METHOD,
        "api": api,
    }
    if api == "messages":
        data.update(application_id=APPLICATION_ID, private_key=private_key_pem())
    if fake is not None:
        data.update(api_host=fake.url, rest_host=fake.url)
    data.update(overrides)
    return data


#: Settings only the sender takes (``VonageSenderConfig``); the call source refuses them.
SENDER_ONLY = frozenset({"from", "api", "rest_host", "timeout", "sign_requests", "concat_wait"})


def call_settings(
    fake: FakeVonageServer | None = None, *, api: str = "sms", **overrides: Any
) -> dict[str, Any]:
    """``settings`` without the sender's own keys: what the ``vonage`` call source takes."""
    data = settings(fake, api=api, **overrides)
    return {key: value for key, value in data.items() if key not in SENDER_ONLY}


def vonage_business(
    fake: FakeVonage | None = None,
    *,
    api: str = "sms",
    call: dict[str, Any] | None = None,
    sender: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A business (``hub.testing.business``) whose calls and texts go through Vonage: ``call``
    and ``sender`` add settings to one side; ``overrides`` are business settings."""
    overrides.setdefault("numbers", [NUMBER])
    overrides.setdefault("forward_to", OWNER)
    return business(
        call_source={"use": "vonage", **call_settings(fake, api=api), **(call or {})},
        sms_sender={"use": "vonage", **settings(fake, api=api), **(sender or {})},
        **overrides,
    )


# -- the fake API ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentText:
    """A text the fake accepted, whichever API it came through."""

    api: str
    to: str
    sender: str
    body: str
    client_ref: str | None
    callback: str | None
    message_id: str
    request: RecordedRequest = field(repr=False)

    @property
    def to_e164(self) -> str:
        """The recipient as the hub writes numbers (Vonage drops the '+')."""
        return "+" + self.to


class FakeVonage(FakeProviderApi):
    """Vonage's SMS and Messages APIs, as far as a sender uses them.

    ``answer_delay`` (seconds): a send is accepted (the text is in ``texts``) and only answered
    this much later, or when the fake stops, as a Vonage that hangs does.
    """

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        api_secret: str = API_SECRET,
        signature_secret: str | None = SIGNATURE_SECRET,
        signature_method: SignatureMethod = SIGNATURE_METHOD,
        application_id: str = APPLICATION_ID,
    ) -> None:
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self.signature_secret, self.signature_method = signature_secret, signature_method
        self.application_id = application_id
        self.texts: list[SentText] = []
        self._rejections: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._texts_lock = threading.Lock()
        self.answer_delay = 0.0
        self._stopping = threading.Event()
        self._transcriptions: dict[str, str] = {}

    @property
    def sent(self) -> list[SentSms]:
        with self._texts_lock:
            return [
                SentSms(text.to_e164, text.sender, text.body, text.message_id)
                for text in self.texts
            ]

    def reset(self) -> None:
        """Forget every request, text and queued failure (to share one server between tests)."""
        with self._lock:
            self.requests.clear()
            self._script.clear()
        with self._texts_lock:
            self.texts.clear()
        self._rejections.clear()
        self.received.clear()
        self.answer_delay = 0.0
        with self._texts_lock:
            self._transcriptions.clear()

    def add_transcription(self, text: str) -> str:
        """Store ``text`` as a transcription file (one sentence per ``.``) and return its
        ``transcription_url``, as Vonage's transcription event gives it."""
        file_id = str(uuid.uuid4())
        with self._texts_lock:
            self._transcriptions[file_id] = text
        return f"{self.url}/v1/files/{file_id}"

    # -- failure modes ----------------------------------------------------------------------------

    def reject_next(self, status: str = "1", error_text: str = "Throttled", times: int = 1) -> None:
        """Answer the next SMS API sends with HTTP 200 and this per-message ``status``."""
        self._rejections.extend([(status, error_text)] * times)

    def fail_next(
        self, status: int = 503, times: int = 1, *, retry_after: float | None = 0
    ) -> None:
        """Answer the next requests (either API) with an HTTP error."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        body = {
            "type": "https://developer.vonage.com/api-errors#server-error",
            "title": "Service Unavailable",
        }
        self.script(*[ScriptedResponse(status, body, headers=headers)] * times)

    # -- waiting ----------------------------------------------------------------------------------

    async def wait_for_texts(self, count: int, timeout: float = 5.0) -> list[SentText]:
        """For a hub whose worker runs in the background (``running_hub``, a process); an
        ``InProcessHub`` has sent everything once ``run_due_jobs`` returns."""
        deadline = time.monotonic() + timeout
        while len(self.texts) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} text(s), the fake got {len(self.texts)}")
            await asyncio.sleep(0.01)
        return list(self.texts)

    # -- the APIs ---------------------------------------------------------------------------------

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        if request.method == "POST" and recorded.path == "/sms/json":
            response = self._sms(recorded)
        elif request.method == "POST" and recorded.path == "/v1/messages":
            response = self._messages(recorded)
        elif request.method == "GET" and recorded.path.startswith("/v1/files/"):
            response = self._file(recorded)
        else:
            return JSONResponse({"title": "Not Found"}, status_code=404)
        if self.answer_delay:
            # Until the delay is over or the fake stops: a stopping fake never waits on a hang.
            await asyncio.to_thread(self._stopping.wait, self.answer_delay)
        return response

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def _sms(self, recorded: RecordedRequest) -> Response:
        content_type = recorded.headers.get("content-type", "")
        # What the SDK's header leak (#323) produces: a form body labelled as JSON, which the
        # real API cannot read either.
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return _sms_answer("2", "Missing api_key (the body is not a form)")
        form = recorded.form
        if not self._sms_authorized(recorded, form):
            return _sms_answer("4", "Bad Credentials")
        for key in ("to", "from", "text"):
            if not form.get(key):
                return _sms_answer("2", f"Missing {key} param")
        if self._rejections:
            status, text = self._rejections.pop(0)
            return _sms_answer(status, text)
        message_id = f"0A{next(self._ids):014X}"
        self._record(
            SentText(
                "sms",
                form["to"],
                form["from"],
                form["text"],
                form.get("client-ref"),
                form.get("callback"),
                message_id,
                recorded,
            )
        )
        return JSONResponse(
            {
                "message-count": "1",
                "messages": [
                    {
                        "to": form["to"],
                        "message-id": message_id,
                        "status": "0",
                        "remaining-balance": "10.0",
                        "message-price": "0.0075",
                        "network": "310004",
                        **({"client-ref": form["client-ref"]} if form.get("client-ref") else {}),
                    }
                ],
            }
        )

    def _sms_authorized(self, recorded: RecordedRequest, form: dict[str, str]) -> bool:
        header = recorded.headers.get("authorization", "")
        if header.startswith("Basic "):
            expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
            return header == f"Basic {expected}"
        if "sig" in form and self.signature_secret is not None:
            expected = sms_signature(form, self.signature_secret, self.signature_method)
            return form.get("api_key") == self.api_key and form["sig"].lower() == expected
        return form.get("api_key") == self.api_key and form.get("api_secret") == self.api_secret

    def _messages(self, recorded: RecordedRequest) -> Response:
        if not recorded.headers.get("content-type", "").startswith("application/json"):
            return _problem(415, "Unsupported Media Type", "send JSON")
        header = recorded.headers.get("authorization", "")
        if not self._messages_authorized(header):
            return _problem(401, "Unauthorized", "invalid credentials")
        try:
            data = recorded.json
        except ValueError:
            return _problem(422, "Invalid params", "the body is not JSON")
        if data.get("channel") != "sms" or data.get("message_type") != "text":
            return _problem(422, "Invalid params", "only SMS text is faked")
        for key in ("to", "from", "text"):
            if not data.get(key):
                return _problem(422, "Invalid params", f"`{key}` is required")
        if str(data["to"]).startswith("+"):
            return _problem(422, "Invalid params", "`to` must be E.164 without '+'")
        message_uuid = str(uuid.uuid4())
        self._record(
            SentText(
                "messages",
                data["to"],
                data["from"],
                data["text"],
                data.get("client_ref"),
                data.get("webhook_url"),
                message_uuid,
                recorded,
            )
        )
        return JSONResponse({"message_uuid": message_uuid}, status_code=202)

    def _file(self, recorded: RecordedRequest) -> Response:
        """A transcription file: only for a JWT of the application (as recordings are)."""
        header = recorded.headers.get("authorization", "")
        if not header.startswith("Bearer ") or not self._messages_authorized(header):
            return _problem(401, "Unauthorized", "a JWT of the application is required")
        with self._texts_lock:
            text = self._transcriptions.get(recorded.path.removeprefix("/v1/files/"))
        if text is None:
            return _problem(404, "Not Found", "no such file")
        sentences = [part.strip() for part in text.split(".") if part.strip()]
        transcript = [
            {
                "sentence": sentence,
                "raw_sentence": sentence.lower(),
                "duration": 2,
                "timestamp": index * 2,
                "words": [
                    {"word": word, "start_time": index * 2, "end_time": index * 2 + 1}
                    for word in sentence.split()
                ],
            }
            for index, sentence in enumerate(sentences)
        ]
        return JSONResponse(
            {
                "ver": "1.0.0",
                "request_id": str(uuid.uuid4()),
                "channels": [{"transcript": transcript, "duration": 2 * len(sentences)}],
            }
        )

    def _messages_authorized(self, header: str) -> bool:
        if header.startswith("Bearer "):
            try:
                claims = jwt.decode(header[7:], _public_key_pem(), algorithms=["RS256"])
            except jwt.PyJWTError:
                return False
            return claims.get("application_id") == self.application_id
        if header.startswith("Basic "):
            expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
            return header == f"Basic {expected}"
        return False

    def _record(self, text: SentText) -> None:
        with self._texts_lock:
            self.texts.append(text)

    def __enter__(self) -> FakeVonage:
        self.start()
        return self


#: The former name.
FakeVonageServer = FakeVonage


def _sms_answer(status: str, error_text: str) -> JSONResponse:
    return JSONResponse(
        {"message-count": "1", "messages": [{"status": status, "error-text": error_text}]}
    )


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    body = {
        "type": f"https://developer.vonage.com/api-errors#{status}",
        "title": title,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    return JSONResponse(body, status_code=status)


# -- signed webhooks ------------------------------------------------------------------------------


def _digits(number: str) -> str:
    return number.removeprefix("+")


class VonageWebhooks:
    """Builds signed webhooks for one business's ``vonage`` routes.

    ``secret=None`` builds them unsigned. ``now`` supplies the signing time (default: the real
    clock); pass the hub's clock when a test moves time.
    """

    def __init__(
        self,
        business: str = "acme",
        *,
        number: str = NUMBER,
        owner: str = OWNER,
        secret: str | None = SIGNATURE_SECRET,
        method: SignatureMethod = SIGNATURE_METHOD,
        api_key: str = API_KEY,
        application_id: str | None = APPLICATION_ID,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.base = f"/hooks/{business}/vonage"
        self.number, self.owner = number, owner
        self.secret, self.method = secret, method
        self.api_key, self.application_id = api_key, application_id
        self.now = now

    # -- signing ----------------------------------------------------------------------------------

    def jwt_post(self, url: str, payload: dict[str, Any]) -> WebhookRequest:
        """POST ``payload`` as JSON, signed with a JWT whose ``payload_hash`` covers it."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret is not None:
            token = make_jwt(
                self.secret,
                body,
                iat=self.now(),
                api_key=self.api_key,
                application_id=self.application_id,
            )
            headers["Authorization"] = f"Bearer {token}"
        return WebhookRequest("POST", self._url(url), headers, body)

    def jwt_get(self, url: str, query: dict[str, str]) -> WebhookRequest:
        headers = {}
        if self.secret is not None:
            token = make_jwt(
                self.secret,
                iat=self.now(),
                api_key=self.api_key,
                application_id=self.application_id,
            )
            headers["Authorization"] = f"Bearer {token}"
        separator = "&" if "?" in url else "?"
        return WebhookRequest("GET", f"{self._url(url)}{separator}{urlencode(query)}", headers)

    def sig_request(self, path: str, params: dict[str, Any], shape: str = "json") -> WebhookRequest:
        """An SMS API webhook signed with ``sig``, as a query (``get``), a form or JSON."""
        data = {key: str(value) for key, value in params.items()}
        if self.secret is not None:
            data["nonce"] = str(uuid.uuid4())
            data = sign_sms_params(data, self.secret, self.method, timestamp=int(self.now()))
        url = self._url(path)
        if shape == "get":
            return WebhookRequest("GET", f"{url}?{urlencode(data)}")
        if shape == "form":
            return WebhookRequest(
                "POST",
                url,
                {"Content-Type": "application/x-www-form-urlencoded"},
                urlencode(data).encode(),
            )
        if shape == "json":
            return WebhookRequest(
                "POST", url, {"Content-Type": "application/json"}, json.dumps(data).encode()
            )
        raise ValueError(f"unknown shape {shape!r} (get, form or json)")

    def signed_query(self, route: str, query: dict[str, str]) -> dict[str, str]:
        """``query`` signed as the hub signs the URLs it hands Vonage (needs the same secret)."""
        if self.secret is None:
            return query
        return {**query, URL_SIGNATURE: url_signature(self.secret, route, query)}

    def _url(self, path: str) -> str:
        return (
            path
            if "://" in path or path.startswith("/hooks/")
            else f"{self.base}/{path.lstrip('/')}"
        )

    # -- voice ------------------------------------------------------------------------------------

    def answer(
        self, call_id: str, caller: str | None = CALLER, *, method: str = "POST"
    ) -> WebhookRequest:
        """The Answer URL's request: POST, the method the README asks for (a GET's data is not
        signed, and the hub refuses it when it checks signatures)."""
        data = {
            "to": _digits(self.number),
            "from": _digits(caller) if caller else "",
            "uuid": call_id,
            "conversation_uuid": f"CON-{call_id}",
        }
        if method == "GET":
            return self.jwt_get("answer", data)
        return self.jwt_post("answer", data)

    def owner_event(
        self,
        call_id: str,
        status: str,
        caller: str | None = CALLER,
        *,
        event_url: str | None = None,
    ) -> WebhookRequest:
        """An event of the owner's leg, at the connect's event URL (``event_url`` from the
        hub's NCCO, or the one it would have built)."""
        url = event_url or "event?" + urlencode(
            self.signed_query(
                "event", {"call": call_id, "from": caller or "", "to": self.number, "leg": "owner"}
            )
        )
        leg = f"OWN-{call_id}"
        payload: dict[str, Any] = {
            "from": _digits(self.number),
            "to": _digits(self.owner),
            "uuid": leg,
            "conversation_uuid": f"CON-{call_id}",
            "status": status,
            "direction": "outbound",
            "timestamp": _iso(self.now()),
        }
        if status == "machine":  # documented quirk: machine events say call_uuid
            payload["call_uuid"] = payload.pop("uuid")
        if status == "completed":
            payload.update(
                duration="42", start_time=_iso(self.now() - 42), end_time=_iso(self.now())
            )
        return self.jwt_post(url, payload)

    def caller_event(
        self, call_id: str, status: str, caller: str | None = CALLER
    ) -> WebhookRequest:
        """An event of the caller's (inbound) leg, at the application's event URL."""
        return self.jwt_post(
            "event",
            {
                "from": _digits(caller) if caller else "",
                "to": _digits(self.number),
                "uuid": call_id,
                "conversation_uuid": f"CON-{call_id}",
                "status": status,
                "direction": "inbound",
                "timestamp": _iso(self.now()),
            },
        )

    def screen(self, url: str) -> WebhookRequest:
        """The owner's leg fetching its ``onAnswer`` NCCO."""
        return self.jwt_get(url, {})

    def screen_input(self, url: str, digits: str | None) -> WebhookRequest:
        return self.jwt_post(
            url,
            {
                "dtmf": {"digits": digits or "", "timed_out": digits is None},
                "speech": {},
                "uuid": "OWN-leg",
                "conversation_uuid": "CON",
                "timestamp": _iso(self.now()),
            },
        )

    def recording(
        self, url: str, recording_url: str = "https://api.nexmo.com/v1/files/rec-1"
    ) -> WebhookRequest:
        return self.jwt_post(
            url,
            {
                "recording_url": recording_url,
                "recording_uuid": "rec-1",
                "conversation_uuid": "CON",
                "start_time": _iso(self.now() - 10),
                "end_time": _iso(self.now()),
                "size": 12345,
            },
        )

    def transcription(
        self,
        url: str,
        transcription_url: str,
        *,
        status: str = "completed",
        recording_uuid: str = "rec-1",
    ) -> WebhookRequest:
        """Vonage's transcription event, at the ``record`` action's ``transcription.eventUrl``."""
        return self.jwt_post(
            url,
            {
                "conversation_uuid": "CON",
                "type": "transcription",
                "recording_uuid": recording_uuid,
                "status": status,
                "transcription_url": transcription_url,
            },
        )

    # -- SMS API ----------------------------------------------------------------------------------

    def inbound_sms(
        self,
        sender: str,
        text: str,
        *,
        message_id: str | None = None,
        shape: str = "json",
        extra: dict[str, Any] | None = None,
    ) -> WebhookRequest:
        params = {
            "msisdn": _digits(sender),
            "to": _digits(self.number),
            "messageId": message_id or f"IN{uuid.uuid4().hex[:14].upper()}",
            "text": text,
            "type": "text",
            "keyword": text.split()[0].upper() if text.split() else "",
            "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.now())),
            "api-key": self.api_key,
            **(extra or {}),
        }
        return self.sig_request("sms", params, shape)

    def multipart_sms(
        self, sender: str, parts: Iterable[str], *, concat_ref: str = "42", shape: str = "json"
    ) -> list[WebhookRequest]:
        """One webhook per part of a long text, in order (shuffle them to test reassembly)."""
        texts = list(parts)
        return [
            self.inbound_sms(
                sender,
                text,
                shape=shape,
                extra={
                    "concat": "true",
                    "concat-ref": concat_ref,
                    "concat-total": str(len(texts)),
                    "concat-part": str(number),
                },
            )
            for number, text in enumerate(texts, start=1)
        ]

    def delivery_receipt(
        self,
        message_id: str,
        status: str = "delivered",
        *,
        err_code: str = "0",
        to: str = CALLER,
        client_ref: str | None = None,
        shape: str = "json",
    ) -> WebhookRequest:
        params = {
            "msisdn": _digits(to),
            "to": _digits(self.number),
            "network-code": "310004",
            "messageId": message_id,
            "price": "0.0075",
            "status": status,
            "scts": time.strftime("%y%m%d%H%M", time.gmtime(self.now())),
            "err-code": err_code,
            "api-key": self.api_key,
            "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.now())),
            **({"client-ref": client_ref} if client_ref else {}),
        }
        return self.sig_request("sms-status", params, shape)

    # -- Messages API -----------------------------------------------------------------------------

    def inbound_message(
        self, sender: str, text: str, *, message_uuid: str | None = None
    ) -> WebhookRequest:
        return self.jwt_post(
            "sms",
            {
                "channel": "sms",
                "message_uuid": message_uuid or str(uuid.uuid4()),
                "to": _digits(self.number),
                "from": _digits(sender),
                "timestamp": _iso(self.now()),
                "text": text,
                "message_type": "text",
                "sms": {
                    "num_messages": "1",
                    "keyword": text.split()[0].upper() if text.split() else "",
                },
                "usage": {"price": "0.0057", "currency": "EUR"},
            },
        )

    def message_status(
        self,
        message_uuid: str,
        status: str = "delivered",
        *,
        error_code: str | None = None,
        to: str = CALLER,
        client_ref: str | None = None,
    ) -> WebhookRequest:
        payload: dict[str, Any] = {
            "message_uuid": message_uuid,
            "to": _digits(to),
            "from": _digits(self.number),
            "timestamp": _iso(self.now()),
            "status": status,
            "channel": "sms",
            "usage": {"currency": "EUR", "price": "0.0333"},
        }
        if client_ref:
            payload["client_ref"] = client_ref
        if error_code:
            payload["error"] = {
                "type": f"https://developer.nexmo.com/api-errors/messages-olympus#{error_code}",
                "title": error_code,
                "detail": "Message was rejected",
                "instance": str(uuid.uuid4()),
            }
        return self.jwt_post("sms-status", payload)


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment))


# -- whole stories --------------------------------------------------------------------------------


@dataclass
class CallTrace(BaseCallTrace):
    """What happened on the wire during one driven call, with the NCCOs the hub answered."""

    @property
    def answer_ncco(self) -> list[dict[str, Any]]:
        ncco: list[dict[str, Any]] = self.responses[0].json()
        return ncco

    @property
    def last_ncco(self) -> list[dict[str, Any]] | None:
        last = self.responses[-1]
        return last.json() if last.status_code == 200 and last.content else None


class CallDriver(BaseCallDriver):
    """Plays Vonage's side of calls and texts against a hub, through ``client``.

    Each call starts at the answer webhook and follows the URLs in the NCCO the hub returns
    (the connect's event URL, the screening URL), so what is tested is the wiring a real
    Vonage would see. Pass the hub's ``clock`` when a test moves time: signatures are dated by
    it; pass the ``fake`` for ``transcript``.
    """

    provider = "vonage"

    def __init__(
        self,
        client: httpx.AsyncClient,
        webhooks: VonageWebhooks | None = None,
        *,
        clock: Clock | None = None,
        fake: FakeVonage | None = None,
    ) -> None:
        super().__init__(client)
        #: Serves the transcription files of ``transcript``.
        self.fake = fake
        #: Calls ``voicemail`` played.
        self._calls: dict[str, CallTrace] = {}
        if webhooks is None:
            webhooks = (
                VonageWebhooks(now=lambda: clock.now().timestamp())
                if clock is not None
                else VonageWebhooks()
            )
        self.webhooks = webhooks

    async def _send(self, request: WebhookRequest) -> httpx.Response:
        response = await request.send(self.client)
        if response.status_code >= 400:
            raise AssertionError(
                f"{request.method} {request.url} → {response.status_code}: {response.text}"
            )
        return response

    async def call(self, caller: str | None = CALLER, call_id: str | None = None) -> CallTrace:
        """Only the answer webhook: enough for after-hours and catch mode."""
        trace = CallTrace(call_id or f"CALL-{uuid.uuid4().hex[:12]}")
        trace.responses.append(await self._send(self.webhooks.answer(trace.call_id, caller)))
        return trace

    async def missed_call(
        self, caller: str | None = CALLER, *, call_id: str | None = None, how: str = "timeout"
    ) -> CallTrace:
        """A call the owner does not take: the owner's leg ends ``how`` (timeout, busy,
        unanswered, rejected, failed, machine), or the caller gives up (``how="caller_hangup"``).
        Outside opening hours (or in catch mode) the answer alone decides."""
        trace = await self.call(caller, call_id)
        event_url = connect_event_url(trace.answer_ncco)
        if event_url is None:
            return trace
        if how == "caller_hangup":
            trace.responses.append(
                await self._send(
                    self.webhooks.owner_event(trace.call_id, "ringing", caller, event_url=event_url)
                )
            )
            trace.responses.append(
                await self._send(
                    self.webhooks.owner_event(
                        trace.call_id, "cancelled", caller, event_url=event_url
                    )
                )
            )
            trace.responses.append(
                await self._send(self.webhooks.caller_event(trace.call_id, "completed", caller))
            )
            return trace
        if how == "machine":
            for status in ("ringing", "answered", "machine", "completed"):
                trace.responses.append(
                    await self._send(
                        self.webhooks.owner_event(
                            trace.call_id, status, caller, event_url=event_url
                        )
                    )
                )
            return trace
        trace.responses.append(
            await self._send(
                self.webhooks.owner_event(trace.call_id, "ringing", caller, event_url=event_url)
            )
        )
        trace.responses.append(
            await self._send(
                self.webhooks.owner_event(trace.call_id, how, caller, event_url=event_url)
            )
        )
        return trace

    async def answered_call(
        self, caller: str | None = CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """The owner picks up (pressing 1 when screening), talks, and the call ends."""
        trace = await self.call(caller, call_id)
        event_url = connect_event_url(trace.answer_ncco)
        if event_url is None:
            raise AssertionError("the hub did not ring the owner")
        for status in ("ringing", "answered"):
            trace.responses.append(
                await self._send(
                    self.webhooks.owner_event(trace.call_id, status, caller, event_url=event_url)
                )
            )
        screen_url = screening_url(trace.answer_ncco)
        if screen_url is not None:
            await self.owner_presses(trace, "1")
        trace.responses.append(
            await self._send(self.webhooks.caller_event(trace.call_id, "completed", caller))
        )
        trace.responses.append(
            await self._send(
                self.webhooks.owner_event(trace.call_id, "completed", caller, event_url=event_url)
            )
        )
        return trace

    async def owner_presses(self, trace: CallTrace, digits: str | None) -> httpx.Response:
        """The screening step on the owner's leg: fetch its NCCO, answer its input
        (``digits=None``: nobody pressed anything, as a voicemail box does)."""
        screen_url = screening_url(trace.answer_ncco)
        if screen_url is None:
            raise AssertionError("the hub's NCCO has no screening step")
        screen = await self._send(self.webhooks.screen(screen_url))
        trace.responses.append(screen)
        input_url = next(a["eventUrl"][0] for a in screen.json() if a.get("action") == "input")
        response = await self._send(self.webhooks.screen_input(input_url, digits))
        trace.responses.append(response)
        return response

    async def voicemail(
        self, caller: str | None = CALLER, *, call_id: str | None = None
    ) -> CallTrace:
        """Nobody takes the call and the caller leaves a message: the ``record`` action of the
        hub's voicemail NCCO reports the recording when the caller hangs up."""
        trace = await self.missed_call(caller, call_id=call_id)
        records = [
            action
            for response in trace.responses
            if response.status_code == 200 and response.content
            for action in response.json()
            if isinstance(action, dict) and action.get("action") == "record"
        ]
        if not records:
            raise AssertionError("the hub offered no voicemail (record) for a missed call")
        trace.responses.append(await self._send(self.webhooks.recording(records[0]["eventUrl"][0])))
        self._calls[trace.call_id] = trace
        return trace

    async def transcript(
        self, call_id: str, text: str, *, status: str = "completed"
    ) -> httpx.Response:
        """Vonage transcribed the voicemail ``voicemail`` left on ``call_id``: the driver's
        ``fake`` serves ``text`` and the signed transcription event goes to the URL in the
        hub's ``record`` action (a ``failed`` event points at no file). The hub fetches the
        file in a job: run the due jobs after this."""
        if self.fake is None:
            raise AssertionError("CallDriver(fake=...) serves the transcription file")
        url = transcription_event_url(self._calls[call_id])
        if url is None:
            raise AssertionError("the hub did not ask Vonage for a transcript (transcribe: false)")
        file_url = self.fake.add_transcription(text) if status == "completed" else ""
        return await self._send(self.webhooks.transcription(url, file_url, status=status))

    async def delivery_report(self, text: SentSms, status: str = "delivered") -> httpx.Response:
        """The receipt for a text the fake accepted, by the API its id comes from (the
        Messages API's are UUIDs)."""
        if "-" in text.provider_id:
            request = self.webhooks.message_status(text.provider_id, status, to=text.to)
        else:
            request = self.webhooks.delivery_receipt(text.provider_id, status, to=text.to)
        return await self._send(request)

    async def delivery_receipt(
        self, text: SentText, status: str = "delivered", *, error_code: str | None = None
    ) -> httpx.Response:
        """Vonage's receipt for a text the fake accepted, through the API that sent it:
        SMS API ``status``/``err-code`` (``delivered``, ``failed``...), Messages API
        ``status``/``error`` (``delivered``, ``rejected``...)."""
        if text.api == "messages":
            request = self.webhooks.message_status(
                text.message_id, status, error_code=error_code, to=text.to_e164
            )
        else:
            request = self.webhooks.delivery_receipt(
                text.message_id, status, err_code=error_code or "0", to=text.to_e164
            )
        return await self._send(request)

    async def reply(self, caller: str, text: str, *, shape: str = "json") -> httpx.Response:
        """The caller texts the business (SMS API webhook; ``shape="messages"`` for the
        Messages API's)."""
        if shape == "messages":
            return await self._send(self.webhooks.inbound_message(caller, text))
        return await self._send(self.webhooks.inbound_sms(caller, text, shape=shape))


def connect_event_url(ncco: list[dict[str, Any]]) -> str | None:
    for action in ncco:
        if action.get("action") == "connect":
            return str(action["eventUrl"][0])
    return None


def transcription_event_url(trace: CallTrace) -> str | None:
    """The ``transcription.eventUrl`` of the ``record`` action the hub answered during the
    call, if it asked for a transcript."""
    for response in trace.responses:
        if response.status_code != 200 or not response.content:
            continue
        actions = response.json()
        for action in actions if isinstance(actions, list) else []:
            transcription = (
                action.get("transcription") if action.get("action") == "record" else None
            )
            if transcription:
                return str(transcription["eventUrl"][0])
    return None


def screening_url(ncco: list[dict[str, Any]]) -> str | None:
    for action in ncco:
        if action.get("action") == "connect":
            on_answer = action["endpoint"][0].get("onAnswer")
            return str(on_answer["url"]) if on_answer else None
    return None


#: The former name.
VonageStory = CallDriver

business_settings = vonage_business


def signed_webhook(
    route: str,
    payload: dict[str, Any],
    *,
    business: str = "acme",
    secret: str | None = SIGNATURE_SECRET,
    method: SignatureMethod = SIGNATURE_METHOD,
    signing: str = "jwt",
    shape: str = "json",
) -> WebhookRequest:
    """One Vonage webhook to ``route`` (``"answer"``, ``"event"``, ``"sms"``...): JSON with a
    JWT (voice, Messages API), or ``signing="sig"`` for the SMS API's signed parameters
    (``shape`` ``get``, ``form`` or ``json``)."""
    hooks = VonageWebhooks(business, secret=secret, method=method)
    if signing == "sig":
        return hooks.sig_request(route, payload, shape)
    return hooks.jwt_post(route, payload)
