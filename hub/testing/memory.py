"""The ``memory`` sender and sink: they keep what they were given in a ``MemoryOutbox``.

Each hub the kit builds gets an outbox of its own (``make_hub(..., outbox=...)``,
``InProcessHub.outbox``): two hubs in one test, or tests run in parallel, never share one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hub.events import ALL_EVENTS, Event
from hub.hookspecs import hookimpl
from hub.providers import ProviderConfig, Sink, SmsSender
from hub.types import (
    DeliveryReport,
    DeliveryResult,
    InboundSms,
    KeywordIntent,
    MessageStatus,
    Notification,
    OutboundSms,
    RecipientIssue,
    SendResult,
)


@dataclass
class MemoryOutbox:
    """What the memory sender and sink were given, and what they should answer next."""

    texts: list[OutboundSms] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    #: Every event the memory sink got (``notifications`` are the owner notifications' words).
    events: list[Event] = field(default_factory=list)
    #: Results the sender returns, in order, before it goes back to "sent".
    send_results: list[SendResult] = field(default_factory=list)
    delivery_results: list[DeliveryResult] = field(default_factory=list)
    sent_event: asyncio.Event | None = None

    def clear(self) -> None:
        self.texts.clear()
        self.notifications.clear()
        self.events.clear()
        self.send_results.clear()
        self.delivery_results.clear()


class MemorySender(SmsSender[ProviderConfig]):
    """Keeps texts in its hub's outbox. Its routes take unsigned JSON (test use only):
    ``POST /hooks/{business}/memory/sms`` ``{"id", "from", "to", "body", "keyword"?}`` and
    ``POST /hooks/{business}/memory/status`` ``{"id", "status", "error_code"?, "issue"?}``."""

    name = "memory"
    description = "Keeps texts in memory (tests)"
    #: Set on the per-hub subclass ``MemoryPlugin`` registers.
    outbox: ClassVar[MemoryOutbox]

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/sms", self.inbound, methods=["POST"]),
            Route("/status", self.status, methods=["POST"]),
        ]

    async def inbound(self, request: Request) -> Response:
        data = await request.json()
        keyword = KeywordIntent(data["keyword"]) if data.get("keyword") else None
        await self.context.receive_sms(
            InboundSms(data["id"], data["from"], data["to"], data["body"], provider_keyword=keyword)
        )
        return Response(status_code=204)

    async def status(self, request: Request) -> Response:
        data = await request.json()
        issue = RecipientIssue(data["issue"]) if data.get("issue") else None
        await self.context.receive_delivery_report(
            DeliveryReport(data["id"], MessageStatus(data["status"]), data.get("error_code"), issue)
        )
        return Response(status_code=204)

    async def send(self, sms: OutboundSms) -> SendResult:
        outbox = self.outbox
        if outbox.send_results:
            return outbox.send_results.pop(0)
        outbox.texts.append(sms)
        return SendResult.sent(f"mem-{sms.reference}-{len(outbox.texts)}")


class MemorySink(Sink[ProviderConfig]):
    name = "memory"
    description = "Keeps events in memory (tests)"
    #: Owner notifications unless hub.yaml names other events (``on: [lead.created, ...]``).
    accepts = ALL_EVENTS
    outbox: ClassVar[MemoryOutbox]

    async def deliver(self, event: Event) -> DeliveryResult:
        outbox = self.outbox
        if outbox.delivery_results:
            return outbox.delivery_results.pop(0)
        if any(seen.id == event.id for seen in outbox.events):
            return DeliveryResult.delivered(f"mem-{event.id}")  # a retry: kept once
        outbox.events.append(event)
        if event.notification is not None:
            outbox.notifications.append(event.notification)
        return DeliveryResult.delivered(f"mem-{event.id}")


class MemoryPlugin:
    """Registers ``memory`` as a sender and a sink that keep what they get in ``outbox``."""

    __name__ = "memory"

    def __init__(self, outbox: MemoryOutbox | None = None) -> None:
        self.outbox = outbox if outbox is not None else MemoryOutbox()
        # Subclasses per plugin instance: the class is what a hub registers, so the outbox
        # travels with it and needs nothing from the provider's context.
        self.sender = type("MemorySender", (MemorySender,), {"outbox": self.outbox})
        self.sink = type("MemorySink", (MemorySink,), {"outbox": self.outbox})

    @hookimpl
    def hub_register_sms_senders(self, register: Callable[[type[SmsSender]], None]) -> None:
        register(self.sender)

    @hookimpl
    def hub_register_sinks(self, register: Callable[[type[Sink]], None]) -> None:
        register(self.sink)
