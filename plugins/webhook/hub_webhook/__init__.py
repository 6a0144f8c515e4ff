"""Signed JSON webhooks for the missed-call text-back hub: the ``webhook`` sink.

Selected in hub.yaml with ``sinks: [{use: webhook, url: ..., secret: ...}]``; it POSTs every
event (or those ``on:`` names) to the URL, signed as the Standard Webhooks spec says. The
payload is documented in the plugin's README; ``hub_webhook.testing`` has a fake receiver.
"""

from __future__ import annotations

from collections.abc import Callable

from hub import Sink, hookimpl
from hub_webhook.config import WebhookConfig
from hub_webhook.payload import PAYLOAD_VERSION, payload
from hub_webhook.signing import sign
from hub_webhook.sink import WebhookSink

__all__ = ["PAYLOAD_VERSION", "WebhookConfig", "WebhookSink", "payload", "sign"]


@hookimpl
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(WebhookSink)
