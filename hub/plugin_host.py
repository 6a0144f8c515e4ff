"""``PluginHost``: the ``hub.context.Runtime`` the composition root gives plugin contexts.

Plugins see only ``ProviderContext``, ``JobContext`` and ``HubContext``; each forwards to this
object, which holds the hub's parts a plugin may act through and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from hub.assembly import business_view
from hub.clock import Clock
from hub.config import Business
from hub.context import JSON, BusinessView
from hub.jobs import JobKind
from hub.providers import Provider
from hub.store import calls, contacts, plugin_state
from hub.store.jobs import JobQueue
from hub.templating import Templates
from hub.types import CallEvent, CallReceipt, DeliveryReport, InboundSms, SendResult

P = TypeVar("P")


class PluginHost:
    """``hub.context.Runtime`` over the hub's parts."""

    def __init__(
        self,
        *,
        clock: Clock,
        public_url: Callable[[], str],
        businesses: Mapping[str, Business],
        templates: Templates,
        jobs: JobQueue,
        job_kinds: Mapping[str, JobKind],
        providers: Callable[[str], Sequence[Provider[Any]]],
        receive_call: Callable[[Business, str, CallEvent], Any],
        receive_sms: Callable[[Business, str, InboundSms], Any],
        receive_delivery_report: Callable[[Business, str, DeliveryReport], Any],
        send_text: Callable[[Business, str, str, str], Awaitable[SendResult]],
        tell_owner: Callable[[Business, str, str, str, int], Awaitable[bool]],
        note_on_lead: Callable[[Business, str, int, str, str | None], Awaitable[bool]],
        set_lead_status: Callable[[Business, str, int, str], Awaitable[bool]],
        attach_transcript: Callable[[str, str, str, str], Awaitable[bool]],
    ) -> None:
        self._clock = clock
        self._public_url = public_url
        self._businesses = businesses
        self._templates = templates
        self._jobs = jobs
        self._job_kinds = job_kinds
        self._providers = providers
        self._receive_call = receive_call
        self._receive_sms = receive_sms
        self._receive_delivery_report = receive_delivery_report
        self._send_text = send_text
        self._tell_owner = tell_owner
        self._note_on_lead = note_on_lead
        self._set_lead_status = set_lead_status
        self._attach_transcript = attach_transcript

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def public_url(self) -> str:
        # Read each time: a test kit or `hub serve --port` may set it after the hub is built.
        return self._public_url()

    def businesses(self) -> Sequence[BusinessView]:
        return [business_view(b) for b in self._businesses.values()]

    def is_open(self, business: str, at: datetime) -> bool:
        return self._businesses[business].is_open(at)

    def render(self, business: str, template: str, context: Mapping[str, Any]) -> str:
        return self._templates.render(template, self._businesses[business], **context)

    def providers(self, business: str, cls: type[P]) -> list[P]:
        return [p for p in self._providers(business) if isinstance(p, cls)]

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        business: str | None,
        run_at_ms: int | None,
        dedupe_key: str | None,
    ) -> int | None:
        if kind not in self._job_kinds:
            # Its jobs would wait forever for a handler (and get the default retry policy).
            raise LookupError(f"no job kind {kind!r} is registered")
        return await self._jobs.enqueue(
            kind, payload, run_at_ms=run_at_ms, dedupe_key=dedupe_key, business=business
        )

    async def cancel_jobs(self, keys: Sequence[str]) -> int:
        return await self._jobs.cancel(keys)

    async def mark(self, business: str, provider: str, key: str) -> bool:
        return await contacts.mark(business, provider, key)

    async def is_marked(self, business: str, provider: str, key: str) -> bool:
        return await contacts.is_marked(business, provider, key)

    async def cached_line_type(self, business: str, phone: str, max_age: timedelta) -> str | None:
        return await contacts.line_type(business, phone, since=self._clock.now() - max_age)

    async def remember_line_type(self, business: str, phone: str, line_type: str) -> None:
        await contacts.remember_line_type(business, phone, line_type, at=self._clock.now())

    async def attach_recording(
        self, business: str, provider: str, call_id: str, recording_url: str
    ) -> bool:
        return await calls.attach_recording(business, provider, call_id, recording_url)

    async def attach_transcript(
        self, business: str, provider: str, call_id: str, text: str
    ) -> bool:
        return await self._attach_transcript(business, provider, call_id, text)

    async def receive_call(self, business: str, provider: str, event: CallEvent) -> CallReceipt:
        receipt: CallReceipt = await self._receive_call(self._businesses[business], provider, event)
        return receipt

    async def receive_sms(self, business: str, provider: str, sms: InboundSms) -> None:
        await self._receive_sms(self._businesses[business], provider, sms)

    async def receive_delivery_report(
        self, business: str, provider: str, report: DeliveryReport
    ) -> None:
        await self._receive_delivery_report(self._businesses[business], provider, report)

    async def send_text(self, business: str, to: str, body: str, reference: str) -> SendResult:
        return await self._send_text(self._businesses[business], to, body, reference)

    async def tell_owner(
        self, business: str, provider: str, key: str, text: str, lead_id: int
    ) -> bool:
        return await self._tell_owner(self._businesses[business], provider, key, text, lead_id)

    async def note_on_lead(
        self, business: str, provider: str, lead_id: int, text: str, url: str | None
    ) -> bool:
        return await self._note_on_lead(self._businesses[business], provider, lead_id, text, url)

    async def set_lead_status(
        self, business: str, provider: str, lead_id: int, status: str
    ) -> bool:
        return await self._set_lead_status(self._businesses[business], provider, lead_id, status)

    async def state_get(self, plugin: str, business: str, key: str) -> JSON:
        value: JSON = await plugin_state.get(plugin, business, key)
        return value

    async def state_set(self, plugin: str, business: str, key: str, value: JSON) -> None:
        await plugin_state.put(plugin, business, key, value, now=self._clock.now())

    async def state_compare_and_set(
        self, plugin: str, business: str, key: str, expected: JSON, new: JSON
    ) -> bool:
        return await plugin_state.compare_and_set(
            plugin, business, key, expected, new, now=self._clock.now()
        )

    async def state_delete(self, plugin: str, business: str, key: str) -> bool:
        return await plugin_state.delete(plugin, business, key)
