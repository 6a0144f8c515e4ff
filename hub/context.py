"""What plugin code is given of the hub: ``ProviderContext``, ``JobContext``, ``HubContext``.

None of them exposes the hub itself. Each offers typed capabilities and forwards them to a
``Runtime``, the small protocol below that the hub's composition root implements; a plugin
never sees the runtime, only these contexts (and a test can run a provider against a fake
runtime).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from hub.clock import Clock
from hub.types import CallEvent, CallReceipt, DeliveryReport, InboundSms, SendResult

if TYPE_CHECKING:
    from starlette.requests import Request


#: What ``PluginState`` stores: anything ``json.dumps`` writes.
JSON: TypeAlias = "bool | int | float | str | list[JSON] | dict[str, JSON] | None"

#: A provider class (bound loosely: ``hub.providers`` imports this module).
P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class BusinessView:
    """A business as plugins see it: who it is and which numbers it answers, read-only."""

    slug: str
    name: str
    timezone: str
    numbers: tuple[str, ...]
    #: The country of the business's first number, for reading national caller ids.
    region: str | None
    #: The owner's phone a call source rings, if the business set one.
    forward_to: str | None = None
    #: Where owner notifications are emailed by default, if the business set it.
    owner_email: str | None = None
    #: The owner's mobile, which owner texts go to by default, if the business set it.
    owner_phone: str | None = None


class Runtime(Protocol):
    """What the contexts forward to; the hub's composition root implements it.

    ``business`` is always a business slug and ``plugin`` the name the plugin was loaded
    under (its entry point), ``provider`` the provider's own ``name``.
    """

    @property
    def clock(self) -> Clock: ...

    @property
    def public_url(self) -> str: ...

    def businesses(self) -> Sequence[BusinessView]: ...

    def is_open(self, business: str, at: datetime) -> bool: ...

    def render(self, business: str, template: str, context: Mapping[str, Any]) -> str: ...

    def providers(self, business: str, cls: type[P]) -> list[P]: ...

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        business: str | None,
        run_at_ms: int | None,
        dedupe_key: str | None,
    ) -> int | None: ...

    async def cancel_jobs(self, keys: Sequence[str]) -> int: ...

    async def mark(self, business: str, provider: str, key: str) -> bool: ...

    async def is_marked(self, business: str, provider: str, key: str) -> bool: ...

    async def cached_line_type(
        self, business: str, phone: str, max_age: timedelta
    ) -> str | None: ...

    async def remember_line_type(self, business: str, phone: str, line_type: str) -> None: ...

    async def attach_recording(
        self, business: str, provider: str, call_id: str, recording_url: str
    ) -> bool: ...

    async def attach_transcript(
        self, business: str, provider: str, call_id: str, text: str
    ) -> bool: ...

    async def receive_call(self, business: str, provider: str, event: CallEvent) -> CallReceipt: ...

    async def receive_sms(self, business: str, provider: str, sms: InboundSms) -> None: ...

    async def send_text(self, business: str, to: str, body: str, reference: str) -> SendResult: ...

    async def receive_delivery_report(
        self, business: str, provider: str, report: DeliveryReport
    ) -> None: ...

    async def tell_owner(
        self, business: str, provider: str, key: str, text: str, lead_id: int
    ) -> bool: ...

    async def note_on_lead(
        self, business: str, provider: str, lead_id: int, text: str, url: str | None
    ) -> bool: ...

    async def set_lead_status(
        self, business: str, provider: str, lead_id: int, status: str
    ) -> bool: ...

    async def state_get(self, plugin: str, business: str, key: str) -> JSON: ...

    async def state_set(self, plugin: str, business: str, key: str, value: JSON) -> None: ...

    async def state_compare_and_set(
        self, plugin: str, business: str, key: str, expected: JSON, new: JSON
    ) -> bool: ...

    async def state_delete(self, plugin: str, business: str, key: str) -> bool: ...


class PluginState:
    """A plugin's durable key-value state for one business: values are JSON.

    For what a plugin must remember across requests, processes and restarts (a CRM's contact
    id, a sheet's row number). Use ``compare_and_set`` when two webhooks may update one key at
    once: read, compute, and write only if nobody wrote in between, else read again.
    """

    #: Longest key (and plugin or business name) the table holds on every database.
    MAX_KEY = 255

    def __init__(self, runtime: Runtime, plugin: str, business: str) -> None:
        self._runtime = runtime
        self.plugin = plugin
        self.business = business

    async def get(self, key: str) -> JSON:
        """The value of ``key``; ``None`` if it was never set (or was deleted)."""
        return await self._runtime.state_get(self.plugin, self.business, self._key(key))

    async def set(self, key: str, value: JSON) -> None:
        """Set ``key``; ``None`` unsets it."""
        await self._runtime.state_set(self.plugin, self.business, self._key(key), value)

    async def compare_and_set(self, key: str, expected: JSON, new: JSON) -> bool:
        """Set ``key`` to ``new`` if it holds ``expected``; ``True`` if so. ``None`` means "not
        set" on both sides: ``compare_and_set(key, mark, None)`` deletes ``key`` if it still
        holds ``mark``."""
        return await self._runtime.state_compare_and_set(
            self.plugin, self.business, self._key(key), expected, new
        )

    async def delete(self, key: str) -> bool:
        """Forget ``key``; ``True`` if it was set."""
        return await self._runtime.state_delete(self.plugin, self.business, self._key(key))

    def _key(self, key: str) -> str:
        # PostgreSQL refuses a longer one while SQLite keeps it: fail alike everywhere.
        if not key or len(key) > self.MAX_KEY:
            raise ValueError(f"a state key must have 1 to {self.MAX_KEY} characters: {key!r}")
        return key

    def __repr__(self) -> str:
        return f"<PluginState {self.plugin!r} for {self.business!r}>"


class ProviderContext:
    """What a provider instance may use of the hub, bound to its business."""

    def __init__(
        self, runtime: Runtime, business: BusinessView, provider_name: str, plugin: str
    ) -> None:
        self._runtime = runtime
        self.business = business
        self.provider_name = provider_name
        self.plugin = plugin
        self.log = logging.getLogger(f"hub.plugins.{provider_name}")
        #: This plugin's durable key-value state for this business.
        self.state = PluginState(runtime, plugin, business.slug)

    # -- time and the business --------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._runtime.clock

    def now(self) -> datetime:
        """The hub's current time (tests move it), timezone-aware, in UTC."""
        return self._runtime.clock.now()

    def is_our_number(self, number: str) -> bool:
        """Whether ``number`` (E.164) is one of this business's numbers."""
        return number in self.business.numbers

    def is_open(self, at: datetime | None = None) -> bool:
        """Whether the business is open at ``at`` (default: now) by its opening hours."""
        return self._runtime.is_open(self.business.slug, self.now() if at is None else at)

    # -- URLs -------------------------------------------------------------------------------------

    def webhook_url(self, path: str = "") -> str:
        """The public URL providers should call for ``path`` under this provider's routes."""
        base = self._runtime.public_url.rstrip("/")
        return f"{base}/hooks/{self.business.slug}/{self.provider_name}/{path.lstrip('/')}"

    def public_request_url(self, request: Request) -> str:
        """The URL a provider requested, as seen from outside any TLS-terminating proxy.

        Signatures (Twilio's, for one) are computed over the URL the provider called; behind a
        proxy ``request.url`` is the internal one. This rebuilds it from ``public_url``, the raw
        path and the raw, un-re-encoded query string.
        """
        base = self._runtime.public_url.rstrip("/")
        path = request.scope.get("hub.route_path") or request.scope["path"]
        query = request.scope.get("query_string", b"").decode("latin-1")
        return f"{base}{path}?{query}" if query else f"{base}{path}"

    # -- jobs and templates -----------------------------------------------------------------------

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
    ) -> int | None:
        """Queue a durable job of a registered kind, for this business, with that kind's retry
        policy. ``None`` when a live job already holds ``dedupe_key``."""
        return await self._runtime.enqueue(
            kind,
            payload,
            business=self.business.slug,
            run_at_ms=run_at_ms,
            dedupe_key=dedupe_key,
        )

    async def cancel_jobs(self, keys: Sequence[str]) -> int:
        """Cancel waiting jobs by their dedupe keys; running jobs finish. Returns how many."""
        return await self._runtime.cancel_jobs(keys)

    def render(self, template: str, **context: Any) -> str:
        """Render a hub template (with this business's overrides); ``business`` is passed."""
        return self._runtime.render(self.business.slug, template, context)

    # -- memory -----------------------------------------------------------------------------------

    async def mark(self, key: str) -> bool:
        """Remember ``key`` for this plugin and this business, permanently; ``True`` the first
        time only. Another business's marks are never seen, whatever key it names.

        For once-only decisions across webhooks (an owner accepted a screened call, say): the
        mark is a unique row, so concurrent webhooks agree on who was first.
        """
        return await self._runtime.mark(self.business.slug, self.provider_name, key)

    async def is_marked(self, key: str) -> bool:
        return await self._runtime.is_marked(self.business.slug, self.provider_name, key)

    async def cached_line_type(self, phone: str, max_age: timedelta) -> str | None:
        """A line type this business's sender looked up for ``phone`` within ``max_age``."""
        return await self._runtime.cached_line_type(self.business.slug, phone, max_age)

    async def remember_line_type(self, phone: str, line_type: str) -> None:
        await self._runtime.remember_line_type(self.business.slug, phone, line_type)

    async def send_text(self, to: str, body: str, *, reference: str) -> SendResult:
        """Text ``to`` from the business's first number, through its sender and then its
        fallbacks, as the hub's own texts go.

        A number that opted out of this business's texts, or cannot receive texts, is never
        sent to: the result is ``FAILED`` with its ``recipient_issue``. ``reference`` names the
        text for the sender (a retry of the same text should reuse it). No quiet hours apply:
        this is for texts to the business's own people (a sink texting the owner); customers
        are texted by the hub itself.
        """
        return await self._runtime.send_text(self.business.slug, to, body, reference)

    # -- the hub's entry points -------------------------------------------------------------------

    async def attach_recording(self, call_id: str, recording_url: str) -> bool:
        """Keep a voicemail's URL on a call this source already reported.

        A recording can arrive after the webhook that decided the call (the caller hangs up
        mid-message, and the call's status callback beats the recording's), and a second
        ``receive_call`` changes nothing. ``False`` if the call is unknown or has a recording.
        """
        return await self._runtime.attach_recording(
            self.business.slug, self.provider_name, call_id, recording_url
        )

    async def attach_transcript(self, call_id: str, text: str) -> bool:
        """Hand in the transcript of a voicemail left on a call this source reported: the hub
        keeps it as the caller's words and reads it into their lead like a first reply (the
        business's reply parsers, after spoken numbers are written as digits), so the
        follow-up question asks only for what is still missing and the owner's summary quotes
        it. ``text`` is what the provider's speech engine heard; pass it as received.

        ``True`` if the hub took it; ``False`` if this business has no call ``call_id`` from
        this source, the call has no lead (anonymous, answered), it already has a transcript
        (a retried callback), or ``text`` is blank. See ``hub.voicemails`` for what happens
        when the transcript arrives before or after the text-back and the caller's reply.
        """
        return await self._runtime.attach_transcript(
            self.business.slug, self.provider_name, call_id, text
        )

    async def tell_owner(self, key: str, text: str, *, lead_id: int) -> bool:
        """Tell the owner of something they must fix (a webhook endpoint that answered 410),
        once per ``key`` for this provider and business, ever: ``text`` becomes a
        ``notify.problem`` event about ``lead_id`` (the lead it first affected) for the
        business's sinks, except those of this provider's kind. ``True`` if this call told
        them, ``False`` if they were told before. ``text`` is read by a person: say what
        broke and what to do, and no secrets."""
        return await self._runtime.tell_owner(
            self.business.slug, self.provider_name, key, text, lead_id
        )

    async def note_on_lead(self, lead_id: int, text: str, *, url: str | None = None) -> bool:
        """Put a line on the timeline of this business's lead ``lead_id``, as this provider: what
        it made of the lead elsewhere (``"HubSpot deal 1234 created"``) and a ``url`` to it.
        ``hub leads show`` and the dashboard show it. ``False`` if the business has no such
        lead: a plugin never writes on another business's leads."""
        return await self._runtime.note_on_lead(
            self.business.slug, self.provider_name, lead_id, text, url
        )

    async def set_lead_status(self, lead_id: int, status: str) -> bool:
        """Move this business's lead ``lead_id`` to ``status`` (``new``, ``contacted``,
        ``booked``, ``closed``), as this provider: what a CRM said happened to it (a visit
        booked, a job closed). The change is recorded on the lead's timeline and emitted as
        ``lead.status_changed`` with this provider's name as its ``actor``, as any change is.
        ``False`` if the business has no such lead (a plugin never moves another business's
        leads) or it already had that status; ``ValueError`` for an unknown status or a move
        the hub refuses (reopening a lead when the caller has another open one)."""
        return await self._runtime.set_lead_status(
            self.business.slug, self.provider_name, lead_id, status
        )

    async def receive_call(self, event: CallEvent) -> CallReceipt:
        return await self._runtime.receive_call(self.business.slug, self.provider_name, event)

    async def receive_sms(self, sms: InboundSms) -> None:
        await self._runtime.receive_sms(self.business.slug, self.provider_name, sms)

    async def receive_delivery_report(self, report: DeliveryReport) -> None:
        await self._runtime.receive_delivery_report(self.business.slug, self.provider_name, report)

    def __repr__(self) -> str:
        return f"<ProviderContext {self.provider_name!r} for {self.business.slug!r}>"


class JobContext:
    """What a job handler of a plugin's job kind may use: ``handler(context, job)``."""

    def __init__(self, runtime: Runtime, plugin: str) -> None:
        self._runtime = runtime
        self.plugin = plugin
        self.log = logging.getLogger(f"hub.plugins.{plugin}")

    @property
    def clock(self) -> Clock:
        return self._runtime.clock

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        business: str | None = None,
        run_at_ms: int | None = None,
        dedupe_key: str | None = None,
    ) -> int | None:
        """Queue another job of a registered kind, with that kind's retry policy."""
        return await self._runtime.enqueue(
            kind, payload, business=business, run_at_ms=run_at_ms, dedupe_key=dedupe_key
        )

    def state_for(self, business: str) -> PluginState:
        """This plugin's key-value state for ``business`` (as its providers see it)."""
        return PluginState(self._runtime, self.plugin, business)

    def providers(self, business: str, cls: type[P]) -> list[P]:
        """The instances of ``cls`` that ``business`` selected; empty if none (any more)."""
        return self._runtime.providers(business, cls)

    def __repr__(self) -> str:
        return f"<JobContext {self.plugin!r}>"


class HubContext:
    """What lifecycle hooks (``hub_startup``, ``hub_shutdown``) are given."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.log = logging.getLogger("hub.plugins")

    @property
    def clock(self) -> Clock:
        return self._runtime.clock

    @property
    def businesses(self) -> Sequence[BusinessView]:
        return self._runtime.businesses()

    def __repr__(self) -> str:
        return "<HubContext>"
