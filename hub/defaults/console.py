"""``console`` SMS sender: logs the text instead of sending it, so the hub runs with no
provider account. The hub stores the message like any other; only the delivery is pretend."""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub.hookspecs import hookimpl
from hub.providers import ProviderConfig, SmsSender
from hub.types import OutboundSms, SendResult

log = logging.getLogger("hub.console")


class ConsoleSender(SmsSender[ProviderConfig]):
    name = "console"
    description = "Logs texts instead of sending them (no credentials needed)"

    async def send(self, sms: OutboundSms) -> SendResult:
        sender = sms.sender_number or self.context.business.numbers[0]
        log.warning("SMS %s -> %s: %s", sender, sms.to, sms.body)
        return SendResult.sent(f"console-{sms.reference}")


@hookimpl
def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
    register(ConsoleSender)
