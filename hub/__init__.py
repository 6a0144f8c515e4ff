"""Missed-call text-back hub.

The public API for plugin authors is what this module exports; everything else may change
between releases. See CONTRIBUTING.md for writing a plugin.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.exceptions import Refused
    from hub.hookspecs import hookimpl
    from hub.jobs import ClaimedJob, Discard, JobKind, Retry
    from hub.providers import (
        CallSource,
        Kind,
        Provider,
        ProviderConfig,
        ProviderContext,
        ReplyParser,
        Sink,
        SmsSender,
    )
    from hub.types import (
        CallbackWindow,
        CallEvent,
        CallOutcome,
        DeliveryReport,
        DeliveryResult,
        DeliveryStatus,
        InboundSms,
        Intent,
        KeywordIntent,
        LeadSummary,
        MessageStatus,
        Notification,
        OutboundSms,
        ParseContext,
        ParsedReply,
        RecipientIssue,
        SendResult,
        SendStatus,
    )

# Each name is imported from its module on first use (PEP 562), so `import hub` costs nothing:
# `hub --help` must not wait for Tortoise, pydantic and Starlette to load.
_EXPORTS = {
    "CallEvent": "hub.types",
    "CallOutcome": "hub.types",
    "CallSource": "hub.providers",
    "CallbackWindow": "hub.types",
    "ClaimedJob": "hub.jobs",
    "DeliveryReport": "hub.types",
    "DeliveryResult": "hub.types",
    "DeliveryStatus": "hub.types",
    "Discard": "hub.jobs",
    "InboundSms": "hub.types",
    "Intent": "hub.types",
    "JobKind": "hub.jobs",
    "KeywordIntent": "hub.types",
    "Kind": "hub.providers",
    "LeadSummary": "hub.types",
    "MessageStatus": "hub.types",
    "Notification": "hub.types",
    "OutboundSms": "hub.types",
    "ParseContext": "hub.types",
    "ParsedReply": "hub.types",
    "Provider": "hub.providers",
    "ProviderConfig": "hub.providers",
    "ProviderContext": "hub.providers",
    "RecipientIssue": "hub.types",
    "Refused": "hub.exceptions",
    "ReplyParser": "hub.providers",
    "Retry": "hub.jobs",
    "SendResult": "hub.types",
    "SendStatus": "hub.types",
    "Sink": "hub.providers",
    "SmsSender": "hub.providers",
    "hookimpl": "hub.hookspecs",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hub' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CallEvent",
    "CallOutcome",
    "CallSource",
    "CallbackWindow",
    "ClaimedJob",
    "DeliveryReport",
    "DeliveryResult",
    "DeliveryStatus",
    "Discard",
    "InboundSms",
    "Intent",
    "JobKind",
    "KeywordIntent",
    "Kind",
    "LeadSummary",
    "MessageStatus",
    "Notification",
    "OutboundSms",
    "ParseContext",
    "ParsedReply",
    "Provider",
    "ProviderConfig",
    "ProviderContext",
    "RecipientIssue",
    "Refused",
    "ReplyParser",
    "Retry",
    "SendResult",
    "SendStatus",
    "Sink",
    "SmsSender",
    "hookimpl",
]
