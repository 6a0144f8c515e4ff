"""``console`` SMS sender: logs the text instead of sending it, so the hub runs with no
provider account. The hub stores the message like any other; only the delivery is pretend."""

from __future__ import annotations

import hashlib
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
        # Short and shell-safe, and the same on every retry of the text: the id a delivery report
        # names (`hub simulate status --message-id ...`).
        message_id = "console-" + hashlib.sha256(sms.reference.encode()).hexdigest()[:10]
        log.warning("SMS %s -> %s [%s]: %s", sender, sms.to, message_id, sms.body)
        return SendResult.sent(message_id)


@hookimpl
def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
    register(ConsoleSender)
