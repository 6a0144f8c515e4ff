"""Missed-call text-back hub.

The public API for plugin authors is what this module exports; everything else may change
between releases. See CONTRIBUTING.md for writing a plugin.
"""

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
from hub.views import CallView, LeadView

__all__ = [
    "CallEvent",
    "CallOutcome",
    "CallSource",
    "CallView",
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
    "LeadView",
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
