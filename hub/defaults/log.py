"""``log`` notification sink: writes owner notifications to the hub's log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from hub.hookspecs import hookimpl
from hub.providers import ProviderConfig, Sink
from hub.types import DeliveryResult, Notification

log = logging.getLogger("hub.notify")


class LogSinkConfig(ProviderConfig):
    level: Literal["info", "warning"] = Field("warning", description="Log level of notifications")


class LogSink(Sink[LogSinkConfig]):
    name = "log"
    description = "Writes owner notifications to the hub's log"

    async def deliver(self, notification: Notification) -> DeliveryResult:
        level = logging.INFO if self.config.level == "info" else logging.WARNING
        log.log(
            level,
            "[%s] %s\n%s",
            self.context.business.slug,
            notification.subject,
            notification.text,
        )
        return DeliveryResult.delivered()


@hookimpl
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(LogSink)
