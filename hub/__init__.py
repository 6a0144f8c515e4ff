"""Missed-call text-back hub.

The public API for plugin authors is what this module exports (and the ``hub.testing`` test
kit); everything else may change between releases. See CONTRIBUTING.md for writing a plugin.
"""

from hub.clock import Clock, ManualClock
from hub.context import (
    JSON,
    BusinessView,
    HubContext,
    JobContext,
    PluginState,
    ProviderContext,
)
from hub.exceptions import Refused
from hub.hookspecs import hookimpl
from hub.jobs import ClaimedJob, Discard, JobHandler, JobKind, Retry, Snooze
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
from hub.segments import Segments, count_segments, is_gsm7
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

__all__ = [
    "JSON",
    "BusinessView",
    "CallEvent",
    "CallOutcome",
    "CallReceipt",
    "CallSource",
    "CallbackWindow",
    "ClaimedJob",
    "Clock",
    "ConfigT",
    "DeliveryReport",
    "DeliveryResult",
    "DeliveryStatus",
    "Discard",
    "HubContext",
    "InboundSms",
    "Intent",
    "JobContext",
    "JobHandler",
    "JobKind",
    "KeywordIntent",
    "Kind",
    "LeadSummary",
    "ManualClock",
    "MessageStatus",
    "Notification",
    "OutboundSms",
    "ParseContext",
    "ParsedReply",
    "PluginState",
    "Provider",
    "ProviderConfig",
    "ProviderContext",
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
    "count_segments",
    "hookimpl",
    "is_gsm7",
    "to_e164",
]
