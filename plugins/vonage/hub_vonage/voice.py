"""``vonage`` call source: Vonage Voice API webhooks → ``CallEvent``\\ s.

Routes, under ``/hooks/{business}/vonage/``:

``answer`` (GET or POST; the application's Answer URL)
    Returns an NCCO. During opening hours in ``forward`` mode: a synchronous ``connect`` to the
    business's ``forward_to`` whose events come back to ``event?leg=owner&...``. After hours, or
    in ``catch`` mode: a short message and (optionally) a voicemail; the call is reported missed
    right away, since nobody will pick up.
``event`` (POST; the application's Event URL, and the connect's event URL)
    Decides, once per inbound call uuid, whether the owner answered:

    - on the owner's leg, ``timeout``/``unanswered``/``busy``/``rejected``/``failed``/
      ``cancelled`` or a ``machine`` answer → missed. For the first five the answer is an NCCO
      (a synchronous connect's event answer replaces the caller's NCCO): our message and
      voicemail. After ``cancelled`` nobody is left, and after ``machine`` the caller is
      already on the owner's voicemail, so those get 204;
    - on the owner's leg, ``answered`` is only provisional (an answering machine answers too):
      the call counts as answered when that leg ends without a ``machine`` verdict;
    - on the caller's leg, ``completed`` before the owner answered → the caller gave up: missed.
``screen`` / ``screen-input`` (with ``screening: true``)
    The owner's leg hears "press 1"; ``1`` → answered, anything else or silence (a voicemail box)
    → missed.
``recording``
    A voicemail finished; reported as a voicemail (a no-op if the call was already reported).
``transcript`` (with ``transcribe: true``)
    Vonage transcribed the voicemail: a ``completed`` event's ``transcription_url`` is fetched
    by a job (``hub_vonage.transcripts``) and the text handed to the core for the call in the
    URL (``context.attach_transcript``); any other status is ignored.

The hub dedupes calls on ``(business, provider, call_id)``: whichever event decides first wins
and later ones are "duplicate" no-ops, so Vonage's out-of-order and repeated events are safe.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub import (
    CallEvent,
    CallOutcome,
    CallSource,
    Discard,
    ProviderContext,
    Refused,
    caller_number,
)
from hub_vonage.config import VonageCallConfig, greeting
from hub_vonage.transcripts import TRANSCRIPT_JOB, allowed_url, fetch_transcript
from hub_vonage.webhooks import BadWebhook, Verifier, Webhook, parse_time, read, to_core, to_vonage
from hub_vonage.webhooks import without_signature as _record

log = logging.getLogger("hub.plugins.vonage")

#: NCCO models dump to plain JSON, keys as Vonage spells them (``from``, not ``from_``).
_DUMP: dict[str, Any] = {"by_alias": True, "exclude_none": True, "mode": "json"}

#: Owner-leg states that end the attempt to reach the owner without a conversation.
MISSED_STATES = frozenset({"timeout", "unanswered", "busy", "rejected", "failed", "cancelled"})

DEFAULT_GREETING = "Sorry, nobody at {business} could take your call. We will text you in a moment."
DEFAULT_AFTER_HOURS = (
    "Thanks for calling {business}. We are closed right now. We will text you in a moment."
)
DEFAULT_SCREENING = "Call for {business}. Press 1 to take it."
VOICEMAIL_PROMPT = "You can also leave a message after the tone."


class VonageCallSource(CallSource[VonageCallConfig]):
    name = "vonage"
    description = "Vonage Voice API: forwards calls to the owner, texts back the ones nobody takes"

    def __init__(self, config: VonageCallConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.verify = Verifier(config, context)

    def problems(self) -> list[str]:
        if self.config.mode == "forward" and self.context.business.forward_to is None:
            return [
                "mode `forward` rings the business's `forward_to`, which is not set "
                "(or use mode: catch)"
            ]
        return []

    async def start(self) -> None:
        # The SDK's NCCO models are imported where they are used, so that `hub check` never
        # loads them; a running hub loads them now rather than on the first call.
        import vonage_voice  # noqa: F401

        if not self.verify.enabled:
            log.warning(
                "vonage call source of %r has no signature_secret: voice webhooks are not verified",
                self.context.business.slug,
            )

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/answer", self.answer, methods=["GET", "POST"]),
            Route("/event", self.event, methods=["GET", "POST"]),
            Route("/screen", self.screen, methods=["GET", "POST"]),
            Route("/screen-input", self.screen_input, methods=["GET", "POST"]),
            Route("/recording", self.recording, methods=["GET", "POST"]),
            Route("/transcript", self.transcript, methods=["POST"]),
        ]

    # -- answer -----------------------------------------------------------------------------------

    async def answer(self, request: Request) -> Response:
        hook = await self._read(request)
        data = hook.params
        uuid = _text(data.get("uuid"))
        if not uuid:
            raise Refused(400, "the answer webhook has no call `uuid`")
        caller, called = to_core(data.get("from")), to_core(data.get("to"))
        business = self.context.business
        number = caller_number(called, business.region)
        if number is None or not self.context.is_our_number(number):
            raise Refused(403, f"{called} is not a number of business {business.slug!r}")
        now = self.context.now()
        is_open = self.context.is_open(now)
        owner = business.forward_to
        if self.config.mode == "forward" and is_open and owner is not None:
            return _ncco(self._connect(uuid, caller, number, owner))
        if self.config.mode == "forward" and is_open:
            log.warning("business %r has no forward_to: treating the call as missed", business.slug)
        # Nobody will be rung: the call is missed now, and the text should not wait for the
        # caller to finish listening.
        outcome = CallOutcome.MISSED if is_open else CallOutcome.AFTER_HOURS
        await self._report(uuid, caller, number, outcome, raw=data)
        text = self.config.greeting if is_open else self.config.after_hours_greeting
        default = DEFAULT_GREETING if is_open else DEFAULT_AFTER_HOURS
        return _ncco(self._voicemail(uuid, caller, number, text or default))

    def _connect(
        self, uuid: str, caller: str | None, called: str, owner: str
    ) -> list[dict[str, Any]]:
        from vonage_voice import Connect, PhoneEndpoint
        from vonage_voice.models.connect_endpoints import OnAnswer

        query = _leg_query(uuid, caller, called)
        screening = self.config.screening
        endpoint = PhoneEndpoint(
            number=to_vonage(owner),
            onAnswer=OnAnswer(url=self._url("screen", query)) if screening else None,
        )
        connect = Connect(
            endpoint=[endpoint],
            from_=to_vonage(called),
            timeout=self.config.ring_timeout,
            eventType="synchronous",
            eventUrl=[self._url("event", {**query, "leg": "owner"})],
            eventMethod="POST",
            # "continue" reports a machine answer as an event; the caller still reaches the
            # owner's voicemail. Screening catches machines on its own.
            machineDetection="continue"
            if self.config.machine_detection and not screening
            else None,
        )
        return [connect.model_dump(**_DUMP)]

    def _voicemail(
        self, uuid: str, caller: str | None, called: str, text: str
    ) -> list[dict[str, Any]]:
        from vonage_voice import Record

        said = greeting(text, self.context.business.name)
        if not self.config.voicemail:
            return [self._talk(said)]
        query = _leg_query(uuid, caller, called)
        record: dict[str, Any] = Record(
            beepStart=True,
            endOnSilence=3,
            endOnKey="#",
            timeOut=self.config.voicemail_max_seconds,
            eventUrl=[self._url("recording", query)],
            eventMethod="POST",
        ).model_dump(**_DUMP)
        if self.config.transcribe:
            # The SDK's Record model has no `transcription` yet; the API takes it as is.
            record["transcription"] = {
                "language": self.config.transcription_language,
                "eventUrl": [self._url("transcript", {"call": uuid})],
                "eventMethod": "POST",
            }
        return [self._talk(f"{said} {VOICEMAIL_PROMPT}"), record]

    def _talk(self, text: str, *, barge_in: bool = False) -> dict[str, Any]:
        from vonage_voice import Talk

        talk: dict[str, Any] = Talk(
            text=text, language=self.config.language, bargeIn=barge_in or None
        ).model_dump(**_DUMP)
        return talk

    # -- events -----------------------------------------------------------------------------------

    async def event(self, request: Request) -> Response:
        hook = await self._read(request)
        data = hook.params
        status = _text(data.get("status")).lower()
        if request.query_params.get("leg") == "owner":
            # The inbound call this leg belongs to is only in the URL the hub signed.
            query = self.verify.url_query(request, "event")
            return await self._owner_event(status, query, data)
        if data.get("direction") == "outbound":
            return Response(status_code=204)  # an outbound leg this source did not start
        # The caller's own leg. Its "answered" only means Vonage picked up to run the NCCO.
        uuid = _text(data.get("uuid") or data.get("call_uuid"))
        if status != "completed" or not uuid:
            return Response(status_code=204)
        if await self.context.is_marked(f"owner-answered:{uuid}"):
            return Response(status_code=204)  # the owner's leg decides (see _owner_event)
        await self._report(
            uuid,
            to_core(data.get("from")),
            to_core(data.get("to")),
            CallOutcome.MISSED,
            at=parse_time(data.get("timestamp")),
            raw=data,
        )
        return Response(status_code=204)

    async def _owner_event(
        self, status: str, query: dict[str, str], data: dict[str, Any]
    ) -> Response:
        uuid = query.get("call")
        if not uuid:
            raise Refused(400, "an owner-leg event needs `call` in its URL")
        caller, called = query.get("from") or None, query.get("to")
        at = parse_time(data.get("timestamp"))
        if status in MISSED_STATES or status == "machine":
            await self._report(
                uuid, to_core(caller), to_core(called), CallOutcome.MISSED, at=at, raw=data
            )
            if status == "cancelled":  # the caller hung up; there is nobody to talk to
                return Response(status_code=204)
            if status == "machine":  # the caller is already leaving the owner a voicemail
                return Response(status_code=204)
            # A synchronous connect's event answer replaces the caller's NCCO.
            text = self.config.greeting or DEFAULT_GREETING
            return _ncco(self._voicemail(uuid, to_core(caller), to_core(called) or "", text))
        if status == "answered":
            if not self.config.screening:
                # Provisional: a machine answers too. Remember it so the caller's "completed"
                # does not count as giving up; the end of this leg decides.
                await self.context.mark(f"owner-answered:{uuid}")
            return Response(status_code=204)
        if status == "completed":
            if await self.context.is_marked(f"owner-answered:{uuid}"):
                outcome = CallOutcome.ANSWERED
            else:  # screening without a "1", or a leg that never got answered
                outcome = CallOutcome.MISSED
            await self._report(uuid, to_core(caller), to_core(called), outcome, at=at, raw=data)
        return Response(status_code=204)

    # -- screening --------------------------------------------------------------------------------

    async def screen(self, request: Request) -> Response:
        from vonage_voice import Input

        # Vonage fetches this NCCO with a GET: nothing is taken from Vonage, only the URL the
        # hub signed.
        await self._read(request, needs_body=False)
        query = self.verify.url_query(request, "screen")
        prompt = greeting(
            self.config.screening_prompt or DEFAULT_SCREENING, self.context.business.name
        )
        return _ncco(
            [
                self._talk(prompt, barge_in=True),
                Input(
                    type=["dtmf"],
                    dtmf={"maxDigits": 1, "timeOut": 5},
                    eventUrl=[self._url("screen-input", query)],
                    eventMethod="POST",
                ).model_dump(**_DUMP),
            ]
        )

    async def screen_input(self, request: Request) -> Response:
        hook = await self._read(request)
        query, data = self.verify.url_query(request, "screen-input"), hook.params
        uuid = query.get("call")
        if not uuid:
            raise Refused(400, "a screening answer needs `call` in its URL")
        dtmf = data.get("dtmf")
        digits = _text(dtmf.get("digits") if isinstance(dtmf, dict) else data.get("digits"))
        caller, called = to_core(query.get("from") or None), to_core(query.get("to"))
        if digits == "1":
            await self.context.mark(f"owner-answered:{uuid}")
            await self._report(uuid, caller, called, CallOutcome.ANSWERED, raw=data)
            return _ncco([self._talk("Connecting.")])
        # Silence is what a voicemail box "presses". The legs still bridge, so the caller can
        # leave a message on the owner's voicemail; the text goes out meanwhile.
        await self._report(uuid, caller, called, CallOutcome.MISSED, raw=data)
        return _ncco([self._talk("Not taken. The caller will get a text.")])

    async def recording(self, request: Request) -> Response:
        hook = await self._read(request)
        query, data = self.verify.url_query(request, "recording"), hook.params
        uuid = query.get("call")
        url = _text(data.get("recording_url"))
        if uuid and url:
            await self._report(
                uuid,
                to_core(query.get("from") or None),
                to_core(query.get("to")),
                CallOutcome.VOICEMAIL,
                recording_url=url,
                raw=data,
            )
        return Response(status_code=204)

    async def transcript(self, request: Request) -> Response:
        """The voicemail's transcription event. Only a ``completed`` one with a
        ``transcription_url`` on Vonage's API host is taken: a job fetches it (so a slow
        Vonage is retried, not waited on here). Vonage reads nothing back."""
        hook = await self._read(request)
        data = hook.params
        # The call it is about comes from the URL the hub signed, not from the event: a signed
        # event replayed with another call in its query is refused.
        uuid = self.verify.url_query(request, "transcript").get("call")
        if not uuid:
            raise Refused(400, "a transcription event needs `call` in its URL")
        status = _text(data.get("status")).lower()
        url = _text(data.get("transcription_url"))
        if not self.config.transcribe or status != "completed" or not url:
            log.info("transcription of call %s not taken (status %r)", uuid, status[:40])
            return Response(status_code=204)
        if not allowed_url(url, self.config.api_host):
            raise Refused(400, "the transcription_url is not on Vonage's API host")
        business = self.context.business.slug
        await self.context.enqueue(
            TRANSCRIPT_JOB,
            {"business": business, "call": uuid, "url": url},
            dedupe_key=f"{TRANSCRIPT_JOB}:{business}:{uuid}",
        )
        return Response(status_code=204)

    async def take_transcript(self, call_id: str, url: str) -> bool:
        """Fetch the transcript at ``url`` as the application and hand it to the core for
        ``call_id`` (``Retry``/``Discard`` from ``fetch_transcript`` go to the job queue)."""
        if not allowed_url(url, self.config.api_host):
            raise Discard("the transcription_url is not on Vonage's API host")
        text = await fetch_transcript(
            url, token=self._application_jwt(), timeout=self.config.transcription_timeout
        )
        taken = await self.context.attach_transcript(call_id, text)
        if not taken:
            log.info("transcript of call %s not taken (unknown, repeated or empty)", call_id)
        return taken

    def _application_jwt(self) -> str:
        from vonage import Auth

        if self.config.application_id is None or self.config.private_key is None:
            raise Discard("transcribe needs application_id and private_key")
        try:
            token = Auth(
                application_id=self.config.application_id,
                private_key=self.config.private_key.get_secret_value(),
            ).generate_application_jwt()
        except Exception as exc:  # never echo the key
            raise Discard(f"cannot sign an application JWT ({type(exc).__name__})") from None
        return token.decode() if isinstance(token, bytes) else str(token)

    # -- helpers ----------------------------------------------------------------------------------

    async def _read(self, request: Request, *, needs_body: bool = True) -> Webhook:
        try:
            hook = await read(request)
        except BadWebhook as exc:
            raise Refused(400, str(exc)) from None
        await self.verify.jwt(hook, needs_body=needs_body)
        return hook

    async def _report(
        self,
        uuid: str,
        caller: str | None,
        called: str | None,
        outcome: CallOutcome,
        *,
        at: Any = None,
        recording_url: str | None = None,
        raw: dict[str, Any],
    ) -> None:
        if not called:
            raise Refused(400, "the webhook does not say which number was called")
        receipt = await self.context.receive_call(
            CallEvent(
                call_id=uuid,
                caller=caller,
                called=called,
                outcome=outcome,
                at=at,
                recording_url=recording_url,
                raw=_record(raw),
            )
        )
        log.info(
            "call %s for %s: %s (%s)", uuid, self.context.business.slug, outcome, receipt.status
        )

    def _url(self, path: str, query: dict[str, str]) -> str:
        return f"{self.context.webhook_url(path)}?{urlencode(self.verify.sign_url(path, query))}"


def _leg_query(uuid: str, caller: str | None, called: str) -> dict[str, str]:
    # The owner's leg has its own uuid and numbers; these tie its events to the inbound call.
    return {"call": uuid, "from": caller or "", "to": called}


def _ncco(actions: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(actions)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
