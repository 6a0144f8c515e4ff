"""Twilio for the missed-call text-back hub: a call source and an SMS sender, both ``twilio``.

Selected in hub.yaml with ``call_source: {use: twilio, ...}`` and ``sms_sender: {use: twilio,
...}``; their webhooks live under ``/hooks/{business}/twilio/`` (see the plugin's README for the
URLs to paste into the Twilio console). ``hub_twilio.testing`` has a fake Twilio API and signed
webhook builders for tests.
"""

from __future__ import annotations

from collections.abc import Callable

from hub import CallSource, SmsSender, hookimpl
from hub_twilio.config import TwilioCallConfig, TwilioSenderConfig, TwilioSmsConfig
from hub_twilio.messaging import TwilioSender
from hub_twilio.voice import TwilioCallSource

__all__ = [
    "TwilioCallConfig",
    "TwilioCallSource",
    "TwilioSender",
    "TwilioSenderConfig",
    "TwilioSmsConfig",
]


@hookimpl
def hub_register_call_sources(register: Callable[[type[CallSource]], None]) -> None:
    register(TwilioCallSource)


@hookimpl
def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
    register(TwilioSender)
