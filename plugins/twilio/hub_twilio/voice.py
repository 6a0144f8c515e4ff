"""``twilio`` call source: Twilio's voice webhooks in, ``CallEvent``\\ s out.

Two setups (``mode``):

``forward``
    The Twilio number is the number customers call. ``/voice`` answers with a ``<Dial>`` to the
    business's ``forward_to`` (``answerOnBridge``, so the caller hears ringing, not an answered
    line); its action, ``/dial``, decides answered or missed. With ``screening`` the owner must
    press a key (``/screen``, ``/screen-answer``) before the call is connected: a carrier
    voicemail answering the owner's phone never presses one, so that call counts as missed.
    With ``machine_detection`` instead, Twilio listens to whoever picks up and tells
    ``/answered-by``: a machine is hung up on, and that call counts as missed too.
    Outside opening hours the owner is not rung: the caller hears the business's message and
    may leave a voicemail.
``catch``
    The business's own phone forwards unanswered calls to the Twilio number, so every call that
    reaches it was missed (``ForwardedFrom`` is kept). The caller hears a short message and may
    leave a voicemail.

``/call-status`` is the number's "call status changes" callback. A caller who hangs up while
the owner's phone is still ringing ends the call before any ``<Dial>`` outcome, and a caller who
hangs up during the greeting never reaches ``<Record>``: the call's final status reports both.

Whichever webhook reports a call first decides it; the core stores each CallSid once, so later
reports of the same call change nothing. The one thing that may arrive late is a voicemail's
recording, which is attached to the stored call, and (with ``transcribe``) its transcript:
Twilio posts it to ``/transcript`` (``<Record transcribeCallback>``), signed like every
webhook, and the hub reads it into the caller's lead (``context.attach_transcript``).
Decisions that span webhooks (the owner accepted a screened call, the owner's leg answered)
are plugin marks, keyed by the caller's CallSid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from twilio.twiml.voice_response import VoiceResponse

from hub import CallEvent, CallOutcome, CallSource, ProviderContext, Refused
from hub_twilio.config import TwilioCallConfig
from hub_twilio.signatures import WebhookVerifier

#: ``CallStatus`` values after which a call is over.
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
#: ``DialCallStatus`` values that mean the owner took the call (``answered``: conferences).
TAKEN = frozenset({"completed", "answered"})
#: ``AnsweredBy`` values of answering-machine detection that no person is behind. ``unknown``
#: is not among them: better to connect a caller to a person we could not classify.
MACHINES = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


def twiml(response: VoiceResponse | None = None) -> Response:
    return Response(str(response or VoiceResponse()), media_type="application/xml")


def required(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value:
        raise Refused(400, f"missing {name}")
    return value


def optional(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value else None


def raw(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def call_started(form: FormData) -> datetime | None:
    """When a finished call began: its status callback's ``Timestamp`` less ``CallDuration``."""
    stamp = optional(form, "Timestamp")
    if stamp is None:
        return None
    try:
        ended = parsedate_to_datetime(stamp)
        seconds = int(optional(form, "CallDuration") or 0)
    except (TypeError, ValueError):
        return None
    if ended.tzinfo is None:
        return None
    return ended - timedelta(seconds=max(seconds, 0))


class TwilioCallSource(CallSource[TwilioCallConfig]):
    name = "twilio"
    description = (
        "Twilio voice: forward calls to the owner (or catch forwarded ones), detect missed"
    )

    def __init__(self, config: TwilioCallConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.verifier = WebhookVerifier(config, context)

    def problems(self) -> list[str]:
        business = self.context.business
        found = []
        if self.config.mode == "forward":
            if business.forward_to is None:
                found.append(
                    "mode forward rings the owner at the business's forward_to, which is not set"
                )
            elif business.forward_to in business.numbers:
                found.append(
                    f"forward_to {business.forward_to} is one of the business's own numbers: "
                    "the call would ring straight back into the hub"
                )
        return found

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/voice", self.voice, methods=["POST"]),
            Route("/dial", self.dial, methods=["POST"]),
            Route("/screen", self.screen, methods=["POST"]),
            Route("/screen-answer", self.screen_answer, methods=["POST"]),
            Route("/answered-by", self.answered_by, methods=["POST"]),
            Route("/voicemail", self.voicemail, methods=["POST"]),
            Route("/call-status", self.call_status, methods=["POST"]),
            Route("/transcript", self.transcript, methods=["POST"]),
        ]

    # -- webhooks ---------------------------------------------------------------------------------

    async def voice(self, request: Request) -> Response:
        """A call comes in: ring the owner, or take the caller to the missed-call message."""
        form = await self.verifier.form(request)
        call_sid = required(form, "CallSid")
        called = required(form, "To")
        business = self.context.business
        if not self.context.is_our_number(called):
            raise Refused(403, f"{called} is not a number of business {business.slug!r}")
        now = self.context.now()
        if self.config.mode == "catch":
            closed = not self.context.is_open(now)
            return await self._missed(form, started=now, closed=closed)
        if not self.context.is_open(now):
            return await self._missed(form, started=now, closed=True)
        if business.forward_to is None:  # `hub check` reports it; the caller still gets a text
            return await self._missed(form, started=now, closed=False)

        response = VoiceResponse()
        dial = response.dial(
            action=self.url("dial"),
            method="POST",
            answer_on_bridge=True,
            timeout=self.config.ring_timeout,
        )
        if self.config.screening:
            dial.number(business.forward_to, url=self.url("screen", call=call_sid), method="POST")
        else:
            detection = {}
            if self.config.machine_detection:
                detection = {
                    "machine_detection": "Enable",
                    "url": self.url("answered-by", call=call_sid),
                    "method": "POST",
                }
            # The owner's leg reports its answer, so a final status that beats the Dial action
            # to the hub can still tell an answered call from a missed one.
            dial.number(
                business.forward_to,
                status_callback=self.url("call-status"),
                status_callback_event="answered",
                status_callback_method="POST",
                **detection,
            )
        return twiml(response)

    async def dial(self, request: Request) -> Response:
        """The ``<Dial>`` to the owner ended: answered, or missed."""
        form = await self.verifier.form(request)
        call_sid = required(form, "CallSid")
        status = optional(form, "DialCallStatus") or ""
        taken = status in TAKEN and optional(form, "DialBridged") != "false"
        if taken and self.config.screening:
            taken = await self.context.is_marked(f"accepted:{call_sid}")
        elif taken and self.config.machine_detection:
            taken = optional(form, "AnsweredBy") not in MACHINES and not (
                await self.context.is_marked(f"machine:{call_sid}")
            )
        if taken:
            await self.context.receive_call(self._event(form, CallOutcome.ANSWERED))
            response = VoiceResponse()
            response.hangup()
            return twiml(response)
        await self.context.receive_call(self._event(form, CallOutcome.MISSED))
        if optional(form, "CallStatus") in FINAL_STATUSES:
            return twiml()  # the caller is gone
        return self._missed_twiml(form, self.context.now(), closed=False)

    async def screen(self, request: Request) -> Response:
        """TwiML for the owner's leg, before it is connected: press a key to take the call."""
        form = await self.verifier.form(request)
        parent = optional(form, "ParentCallSid") or request.query_params.get("call")
        if not parent:
            raise Refused(400, "missing ParentCallSid")
        response = VoiceResponse()
        gather = response.gather(
            action=self.url("screen-answer", call=parent),
            method="POST",
            num_digits=1,
            timeout=self.config.screening_timeout,
            finish_on_key="",
        )
        gather.say(
            self.config.screening_prompt.replace("{business}", self.context.business.name),
            **self._say_options(),
        )
        response.hangup()  # nobody pressed a key: a voicemail, most likely
        return twiml(response)

    async def screen_answer(self, request: Request) -> Response:
        form = await self.verifier.form(request)
        parent = optional(form, "ParentCallSid") or request.query_params.get("call")
        if not parent:
            raise Refused(400, "missing ParentCallSid")
        if optional(form, "Digits") is None:
            response = VoiceResponse()
            response.hangup()
            return twiml(response)
        await self.context.mark(f"accepted:{parent}")
        return twiml()  # an empty screen ends it: Twilio connects the two legs

    async def answered_by(self, request: Request) -> Response:
        """TwiML for the owner's leg once answering-machine detection has listened to it."""
        form = await self.verifier.form(request)
        parent = optional(form, "ParentCallSid") or request.query_params.get("call")
        if not parent:
            raise Refused(400, "missing ParentCallSid")
        if optional(form, "AnsweredBy") not in MACHINES:
            return twiml()  # a person (or unknown): Twilio connects the two legs
        await self.context.mark(f"machine:{parent}")
        response = VoiceResponse()
        response.hangup()  # the owner's voicemail: the caller hears the missed-call message
        return twiml(response)

    async def voicemail(self, request: Request) -> Response:
        """``<Record>``'s action and its recording status callback: the caller left a message,
        or hung up without one.

        The recording status callback carries no From/To, so the ``<Record>`` URLs carry what
        the event needs in their (signed) query string.
        """
        form = await self.verifier.form(request)
        query = request.query_params
        call_sid = required(form, "CallSid")
        recording = optional(form, "RecordingUrl")
        if optional(form, "RecordingStatus") not in (None, "completed"):
            recording = None
        if optional(form, "RecordingDuration") in ("0", "-1"):
            recording = None
        closed = query.get("closed") == "1"
        outcome = (
            CallOutcome.VOICEMAIL
            if recording
            else (CallOutcome.AFTER_HOURS if closed else CallOutcome.MISSED)
        )
        started = query.get("at")
        event = CallEvent(
            call_id=call_sid,
            caller=query.get("from") or optional(form, "From"),
            called=query.get("to") or required(form, "To"),
            outcome=outcome,
            at=_iso_time(started),
            forwarded_from=query.get("forwarded_from") or optional(form, "ForwardedFrom"),
            recording_url=recording,
            raw=raw(form),
        )
        receipt = await self.context.receive_call(event)
        if receipt.status == "duplicate" and recording:
            await self.context.attach_recording(call_sid, recording)
        response = VoiceResponse()
        response.say("Thank you. Goodbye.", **self._say_options())
        response.hangup()
        return twiml(response)

    async def transcript(self, request: Request) -> Response:
        """``<Record transcribeCallback>``: the voicemail's transcript (``TranscriptionText``)
        once ``TranscriptionStatus`` is ``completed``; a ``failed`` one leaves the recording
        alone. Twilio reads nothing back, and a retry of it changes nothing."""
        form = await self.verifier.form(request)
        call_sid = required(form, "CallSid")
        text = optional(form, "TranscriptionText")
        if optional(form, "TranscriptionStatus") != "completed" or text is None:
            return Response(status_code=204)
        if not await self.context.attach_transcript(call_sid, text):
            self.context.log.info("transcript of call %s not taken (unknown or repeated)", call_sid)
        return Response(status_code=204)

    async def call_status(self, request: Request) -> Response:
        """The call's status callback (and, unscreened, the owner's leg answering)."""
        form = await self.verifier.form(request)
        status = optional(form, "CallStatus")
        parent = optional(form, "ParentCallSid")
        if parent is not None:  # the owner's leg, which the hub dialled
            if status == "in-progress" and not self.config.screening:
                await self.context.mark(f"answered:{parent}")
            return Response(status_code=204)
        direction = optional(form, "Direction") or "inbound"
        if status not in FINAL_STATUSES or not direction.startswith("inbound"):
            return Response(status_code=204)
        call_sid = required(form, "CallSid")
        taken = False
        if self.config.mode == "forward":
            evidence = "accepted" if self.config.screening else "answered"
            taken = await self.context.is_marked(f"{evidence}:{call_sid}")
            if taken and self.config.machine_detection and not self.config.screening:
                taken = not await self.context.is_marked(f"machine:{call_sid}")
        outcome = CallOutcome.ANSWERED if taken else CallOutcome.MISSED
        await self.context.receive_call(self._event(form, outcome, at=call_started(form)))
        return Response(status_code=204)

    # -- helpers ----------------------------------------------------------------------------------

    def url(self, path: str, **query: str) -> str:
        url = self.context.webhook_url(path)
        return f"{url}?{urlencode(query)}" if query else url

    def _event(
        self, form: FormData, outcome: CallOutcome, *, at: datetime | None = None
    ) -> CallEvent:
        return CallEvent(
            call_id=required(form, "CallSid"),
            caller=optional(form, "From"),
            called=required(form, "To"),
            outcome=outcome,
            at=at,
            forwarded_from=optional(form, "ForwardedFrom"),
            raw=raw(form),
        )

    async def _missed(self, form: FormData, *, started: datetime, closed: bool) -> Response:
        """The caller reached nobody. With voicemail on, the call is decided when it ends
        (``/voicemail`` or ``/call-status``), so the owner's notification can carry the
        recording; without, it is decided now."""
        if not self.config.voicemail:
            outcome = CallOutcome.AFTER_HOURS if closed else CallOutcome.MISSED
            await self.context.receive_call(self._event(form, outcome, at=started))
        return self._missed_twiml(form, started, closed=closed)

    def _missed_twiml(self, form: FormData, started: datetime, *, closed: bool) -> Response:
        name = self.context.business.name
        text = self.config.after_hours_text(name) if closed else self.config.missed_text(name)
        response = VoiceResponse()
        response.say(text, **self._say_options())
        if not self.config.voicemail:
            response.hangup()
            return twiml(response)
        query = {
            "to": required(form, "To"),
            "at": started.isoformat(),
            "closed": "1" if closed else "0",
        }
        for key, field in (("from", "From"), ("forwarded_from", "ForwardedFrom")):
            value = optional(form, field)
            if value is not None:
                query[key] = value
        target = self.url("voicemail", **query)
        response.record(
            action=target,
            method="POST",
            max_length=self.config.voicemail_max_length,
            timeout=5,
            play_beep=True,
            recording_status_callback=target,
            recording_status_callback_method="POST",
            recording_status_callback_event="completed",
            **self._transcribe_options(),
        )
        return twiml(response)

    def _transcribe_options(self) -> dict[str, object]:
        if not self.config.transcribe:
            return {}
        return {"transcribe": True, "transcribe_callback": self.url("transcript")}

    def _say_options(self) -> dict[str, str]:
        options = {}
        if self.config.voice:
            options["voice"] = self.config.voice
        if self.config.language:
            options["language"] = self.config.language
        return options


def _iso_time(value: str | None) -> datetime | None:
    """The call's start the hub put in the ``<Record>`` URL; ``None`` if it is not a time."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
