"""``sms`` sink: texts owner notifications to the owner's phone (or the numbers in ``to``).

Texts go through the business's own sender chain (``ProviderContext.send_text``), so a number
that opted out or cannot receive texts is never texted. Each text is cut to two SMS segments.
A recipient gets at most ``max_per_hour`` of them in any clock hour; the rest are dropped and
show as failed deliveries, since a text the owner did not get must not look delivered.

The hub already pages the owner's phone about an emergency (``owner.phone``); this sink never
texts that number an urgent notification a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field, field_validator

from hub.context import ProviderContext
from hub.events import Event, EventKind
from hub.hookspecs import hookimpl
from hub.phone import to_e164
from hub.providers import ProviderConfig, Sink
from hub.segments import count_segments
from hub.types import DeliveryResult, DeliveryStatus, SendStatus

NotificationName = Literal[
    "new_lead", "summary", "urgent", "reminder", "reply", "cannot_text", "problem"
]
TEMPLATE = "sms/owner_notify.txt"
MAX_SEGMENTS = 2
DEFAULT_ONLY: list[NotificationName] = ["urgent", "summary"]


class SmsSinkConfig(ProviderConfig):
    to: list[str] = Field(
        default_factory=list,
        description="Numbers to text, E.164; default: the business owner's phone",
    )
    only: list[NotificationName] = Field(
        default_factory=lambda: list(DEFAULT_ONLY),
        min_length=1,
        description="The notifications to text (new_lead, summary, urgent, reminder, reply, "
        "cannot_text, problem); `on:` with their event names does the same",
    )
    max_per_hour: int = Field(
        10, ge=1, le=120, description="Most texts one number gets in an hour; the rest are dropped"
    )

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(to_e164(number) for number in value))


class SmsSink(Sink[SmsSinkConfig]):
    name = "sms"
    description = "Texts owner notifications to the owner's phone through the business's sender"

    def __init__(self, config: SmsSinkConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.events = frozenset(EventKind.notification(kind) for kind in config.only)

    def recipients(self) -> list[str]:
        owner = self.context.business.owner_phone
        return list(self.config.to) or ([owner] if owner else [])

    def problems(self) -> list[str]:
        if not self.recipients():
            return ["no one to text: set `to`, or the business owner's phone"]
        return []

    async def deliver(self, event: Event) -> DeliveryResult:
        notification = event.notification
        if notification is None:
            return DeliveryResult.failed(f"sms texts owner notifications, not {event.kind}")
        recipients = [
            phone
            for phone in self.recipients()
            if not (event.kind == EventKind.NOTIFY_URGENT and phone == self.owner_paged())
        ]
        if event.kind == EventKind.NOTIFY_PROBLEM:  # a plugin's words, not a lead's fields
            body = fit(f"{self.context.business.name}: {notification.text}")
        else:
            body = fit(
                self.context.render(
                    TEMPLATE, lead=notification.lead, kind=notification.kind, url=notification.url
                )
            )
        results = [await self.text(phone, body, event) for phone in recipients]
        if not results:
            return DeliveryResult.delivered("the hub already paged the owner's phone")
        for wanted in (DeliveryStatus.RETRY, DeliveryStatus.FAILED):
            errors = [r.error or "" for r in results if r.status == wanted]
            if errors:
                return DeliveryResult(wanted, error="; ".join(errors))
        return DeliveryResult.delivered(", ".join(r.reference or "" for r in results))

    def owner_paged(self) -> str | None:
        """The number the hub itself texts about an emergency."""
        return self.context.business.owner_phone

    async def text(self, phone: str, body: str, event: Event) -> DeliveryResult:
        """Text one recipient once per event, within the hourly cap."""
        state = self.context.state
        done = await state.get(f"sent:{event.id}:{phone}")
        if isinstance(done, str):
            return DeliveryResult.delivered(done)  # a retry of the event: this one went
        if not await self.take_from_cap(phone):
            cap = self.config.max_per_hour
            return DeliveryResult.failed(f"not texted to {phone}: {cap} texts this hour already")
        result = await self.context.send_text(phone, body, reference=f"{event.id}:{phone}")
        if result.status == SendStatus.SENT:
            await state.set(f"sent:{event.id}:{phone}", result.provider_id or "sent")
            return DeliveryResult.delivered(result.provider_id)
        await self.give_back_to_cap(phone)
        if result.status == SendStatus.RETRY:
            return DeliveryResult.retry(f"{phone}: {result.error}", retry_after=result.retry_after)
        return DeliveryResult.failed(f"{phone}: {result.error}")

    async def take_from_cap(self, phone: str) -> bool:
        """Count one text to ``phone`` in this clock hour, if the cap allows (one key per
        number, ``[hour, count]``; safe when deliveries run at once)."""
        return await self._count(phone, +1)

    async def give_back_to_cap(self, phone: str) -> None:
        """Uncount a text that did not go."""
        await self._count(phone, -1)

    async def _count(self, phone: str, step: int) -> bool:
        key, hour = f"cap:{phone}", f"{self.context.now():%Y-%m-%dT%H}"
        while True:
            held = await self.context.state.get(key)
            count = held[1] if isinstance(held, list) and held[0] == hour else 0
            assert isinstance(count, int)
            if step > 0 and count >= self.config.max_per_hour:
                return False
            if await self.context.state.compare_and_set(key, held, [hour, max(count + step, 0)]):
                return True


def fit(text: str, segments: int = MAX_SEGMENTS) -> str:
    """``text`` on one line, cut to fit in ``segments`` SMS segments (``...``, not ``…``, which
    is not GSM-7 and would halve what a segment holds)."""
    text = " ".join(text.split())
    if count_segments(text).count <= segments:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its ellipsis
        middle = (low + high + 1) // 2
        if count_segments(text[:middle].rstrip() + "...").count <= segments:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "..."


@hookimpl
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(SmsSink)
