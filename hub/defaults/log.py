"""``log`` notification sink: writes owner notifications to the hub's log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from hub.events import Event
from hub.hookspecs import hookimpl
from hub.providers import ProviderConfig, Sink
from hub.text import terminal_safe
from hub.types import DeliveryResult

log = logging.getLogger("hub.notify")


class LogSinkConfig(ProviderConfig):
    level: Literal["info", "warning"] = Field("warning", description="Log level of notifications")


class LogSink(Sink[LogSinkConfig]):
    name = "log"
    description = "Writes owner notifications to the hub's log"

    async def deliver(self, event: Event) -> DeliveryResult:
        notification = event.notification
        if notification is None:
            return DeliveryResult.failed(f"log writes owner notifications, not {event.kind}")
        level = logging.INFO if self.config.level == "info" else logging.WARNING
        log.log(
            level,
            "[%s] %s\n    %s",
            self.context.business.slug,
            terminal_safe(notification.subject),
            # Every line of the notification indented, each escaped: a newline in a customer's
            # words can add a line, never one that reads as a log record of its own.
            "\n    ".join(terminal_safe(line) for line in notification.text.split("\n")),
        )
        return DeliveryResult.delivered()


@hookimpl
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(LogSink)
