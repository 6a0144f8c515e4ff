"""Missed-call text-back hub.

The public API for plugin authors is what this module exports (and the ``hub.testing`` test
kit); everything else may change between releases. See CONTRIBUTING.md for writing a plugin.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.cli import configured_providers
    from hub.clock import Clock, ManualClock
    from hub.context import JSON, BusinessView, HubContext, JobContext, PluginState, ProviderContext
    from hub.events import ALL_EVENTS, LEAD_CHANGES, NOTIFICATIONS, Change, Event, EventKind
    from hub.exceptions import Refused
    from hub.hookspecs import hookimpl
    from hub.jobs import ClaimedJob, Discard, JobHandler, JobKind, Retry, Snooze
    from hub.net import PrivateAddressError, is_public_address, public_http_client, url_problem
    from hub.phone import caller_number, to_e164
    from hub.providers import (
        CallSource,
        ConfigT,
        Kind,
        Provider,
        ProviderConfig,
        ReplyParser,
        Sink,
        SmsSender,
    )
    from hub.records import DeliveryError, find_or_create
    from hub.segments import Segments, count_segments, is_gsm7
    from hub.throttle import RateWindow, rate_window
    from hub.types import (
        CallbackWindow,
        CallEvent,
        CallOutcome,
        CallReceipt,
        DeliveryReport,
        DeliveryResult,
        DeliveryStatus,
        InboundSms,
        Intent,
        KeywordIntent,
        MessageStatus,
        Notification,
        OutboundSms,
        ParseContext,
        ParsedReply,
        RecipientIssue,
        SendResult,
        SendStatus,
    )
    from hub.views import CallView, LeadView, MessageView

# Each name is imported from its module on first use (PEP 562), so `import hub` costs nothing:
# `hub --help` must not wait for Tortoise, pydantic and Starlette to load.
_EXPORTS = {
    "ALL_EVENTS": "hub.events",
    "BusinessView": "hub.context",
    "CallEvent": "hub.types",
    "CallOutcome": "hub.types",
    "CallReceipt": "hub.types",
    "CallSource": "hub.providers",
    "CallView": "hub.views",
    "CallbackWindow": "hub.types",
    "Change": "hub.events",
    "ClaimedJob": "hub.jobs",
    "Clock": "hub.clock",
    "ConfigT": "hub.providers",
    "DeliveryError": "hub.records",
    "DeliveryReport": "hub.types",
    "DeliveryResult": "hub.types",
    "DeliveryStatus": "hub.types",
    "Discard": "hub.jobs",
    "Event": "hub.events",
    "EventKind": "hub.events",
    "HubContext": "hub.context",
    "InboundSms": "hub.types",
    "Intent": "hub.types",
    "JSON": "hub.context",
    "JobContext": "hub.context",
    "JobHandler": "hub.jobs",
    "JobKind": "hub.jobs",
    "KeywordIntent": "hub.types",
    "Kind": "hub.providers",
    "LEAD_CHANGES": "hub.events",
    "LeadView": "hub.views",
    "ManualClock": "hub.clock",
    "MessageStatus": "hub.types",
    "MessageView": "hub.views",
    "NOTIFICATIONS": "hub.events",
    "Notification": "hub.types",
    "OutboundSms": "hub.types",
    "ParseContext": "hub.types",
    "ParsedReply": "hub.types",
    "PluginState": "hub.context",
    "PrivateAddressError": "hub.net",
    "Provider": "hub.providers",
    "ProviderConfig": "hub.providers",
    "ProviderContext": "hub.context",
    "RateWindow": "hub.throttle",
    "RecipientIssue": "hub.types",
    "Refused": "hub.exceptions",
    "ReplyParser": "hub.providers",
    "Retry": "hub.jobs",
    "Segments": "hub.segments",
    "SendResult": "hub.types",
    "SendStatus": "hub.types",
    "Sink": "hub.providers",
    "SmsSender": "hub.providers",
    "Snooze": "hub.jobs",
    "caller_number": "hub.phone",
    "configured_providers": "hub.cli",
    "count_segments": "hub.segments",
    "find_or_create": "hub.records",
    "hookimpl": "hub.hookspecs",
    "is_gsm7": "hub.segments",
    "is_public_address": "hub.net",
    "public_http_client": "hub.net",
    "rate_window": "hub.throttle",
    "to_e164": "hub.phone",
    "url_problem": "hub.net",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hub' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ALL_EVENTS",
    "JSON",
    "LEAD_CHANGES",
    "NOTIFICATIONS",
    "BusinessView",
    "CallEvent",
    "CallOutcome",
    "CallReceipt",
    "CallSource",
    "CallView",
    "CallbackWindow",
    "Change",
    "ClaimedJob",
    "Clock",
    "ConfigT",
    "DeliveryError",
    "DeliveryReport",
    "DeliveryResult",
    "DeliveryStatus",
    "Discard",
    "Event",
    "EventKind",
    "HubContext",
    "InboundSms",
    "Intent",
    "JobContext",
    "JobHandler",
    "JobKind",
    "KeywordIntent",
    "Kind",
    "LeadView",
    "ManualClock",
    "MessageStatus",
    "MessageView",
    "Notification",
    "OutboundSms",
    "ParseContext",
    "ParsedReply",
    "PluginState",
    "PrivateAddressError",
    "Provider",
    "ProviderConfig",
    "ProviderContext",
    "RateWindow",
    "RecipientIssue",
    "Refused",
    "ReplyParser",
    "Retry",
    "Segments",
    "SendResult",
    "SendStatus",
    "Sink",
    "SmsSender",
    "Snooze",
    "caller_number",
    "configured_providers",
    "count_segments",
    "find_or_create",
    "hookimpl",
    "is_gsm7",
    "is_public_address",
    "public_http_client",
    "rate_window",
    "to_e164",
    "url_problem",
]
