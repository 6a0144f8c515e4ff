"""Base classes for the four kinds of provider a plugin can register.

A provider class names itself (``name``), is generic over its config model
(``class TwilioSender(SmsSender[TwilioSenderConfig])``: ``Config`` and ``self.config`` follow
from the type argument) and implements its kind's one async runtime method; a class that
leaves it out is refused when it is registered. The hub builds one instance per selection in
``hub.yaml``: a business using Twilio for calls and texts has a ``TwilioCallSource`` and a
``TwilioSender``, each with its own validated config.

Blocking SDKs must run off the event loop: use ``await asyncio.to_thread(...)`` inside the async
method.
"""

from __future__ import annotations

import abc
import enum
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic

from pydantic import BaseModel, ConfigDict
from starlette.routing import BaseRoute
from typing_extensions import TypeVar

from hub.context import ProviderContext
from hub.events import NOTIFICATIONS, Event, EventKind
from hub.types import (
    DeliveryResult,
    OutboundSms,
    ParseContext,
    ParsedReply,
    SendResult,
)


class Kind(enum.StrEnum):
    CALL_SOURCE = "call_source"
    SMS_SENDER = "sms_sender"
    REPLY_PARSER = "reply_parser"
    SINK = "sink"


class ProviderConfig(BaseModel):
    """Base for provider config models: unknown keys are errors, secrets are ``SecretStr``.

    Give every field a ``description``: ``hub schema`` shows it in editors.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


#: A provider's config model; a class written without one gets ``ProviderConfig``. Covariant:
#: configs are frozen, so a ``Sink[EmailConfig]`` is a ``Sink[ProviderConfig]`` where the hub
#: registers and builds providers of any config.
ConfigT = TypeVar("ConfigT", bound=ProviderConfig, default=ProviderConfig, covariant=True)


class Provider(abc.ABC, Generic[ConfigT]):
    """Common shape of every provider class."""

    kind: ClassVar[Kind]
    #: The name ``hub.yaml`` selects it by (``use: NAME``), also its URL segment.
    name: ClassVar[str]
    #: One line for ``hub plugins``.
    description: ClassVar[str] = ""
    #: The config model, taken from the type argument (``SmsSender[MyConfig]``): never set it.
    Config: ClassVar[type[ProviderConfig]] = ProviderConfig

    def __init__(self, config: ConfigT, context: ProviderContext) -> None:
        self.config: ConfigT = config
        self.context = context

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        config = _config_argument(cls)
        if config is not None:
            cls.Config = config

    async def start(self) -> None:
        """Open clients. Runs inside the event loop, after the database is ready."""

    async def close(self) -> None:
        """Release what ``start`` opened."""

    def problems(self) -> list[str]:
        """Setup problems ``hub check`` should report that the config model alone cannot see
        (they depend on the business, say). Empty when all is well."""
        return []

    async def warnings(self) -> list[str]:
        """What this provider's durable state says the owner should look at (an endpoint that
        answered 410 Gone and is disabled, say). ``hub check`` prints each as a warning when
        the database already exists; runs after ``start``. Empty when all is well."""
        return []

    def routes(self) -> Sequence[BaseRoute]:
        """Webhook routes, mounted under ``/hooks/{business}/{name}/``.

        A handler may raise ``hub.Refused`` to answer with a plain error status.
        """
        return ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} for {self.context.business.slug!r}>"


def _config_argument(cls: type) -> type[ProviderConfig] | None:
    """The config model ``cls`` names in its bases (``SmsSender[MyConfig]``), if any."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if not (isinstance(origin, type) and issubclass(origin, Provider)):
            continue
        for arg in typing.get_args(base):
            if isinstance(arg, type) and issubclass(arg, ProviderConfig):
                return arg
    return None


def missing_methods(cls: type[Provider[Any]]) -> list[str]:
    """The abstract methods ``cls`` leaves unimplemented (its kind's runtime method)."""
    return sorted(getattr(cls, "__abstractmethods__", ()))


class CallSource(Provider[ConfigT]):
    """Turns a provider's voice webhooks into ``CallEvent``\\ s via ``context.receive_call``.

    Call sources have no runtime method the hub calls: they are driven by their routes.
    """

    kind = Kind.CALL_SOURCE


class SmsSender(Provider[ConfigT]):
    """Sends texts; its routes take inbound texts (``context.receive_sms``) and delivery reports
    (``context.receive_delivery_report``)."""

    kind = Kind.SMS_SENDER

    @abc.abstractmethod
    async def send(self, sms: OutboundSms) -> SendResult:
        """Send one text. Return ``SendResult.retry`` for anything worth trying again
        (rate limits, 5xx, network errors) and ``SendResult.failed`` otherwise. Do not retry
        inside: the hub's job queue retries with backoff and survives restarts."""

    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        """Whether an earlier attempt at this very text went out. Optional.

        The hub records each attempt before it calls ``send``; when an attempt has no outcome
        (the hub died mid-send, the send timed out, the job's lease was rescued), the next
        run asks this before it sends, so a text the provider took is not sent twice.
        ``sms`` is the same text (``reference``, recipient, body, sender number); ``since``
        is when the attempt was recorded, by the hub's clock: allow for a little skew.

        Return ``SendResult.sent(provider_id, ...)`` when the provider has it; ``None`` when
        the provider says it never took it; ``SendResult.retry(...)`` when it cannot be asked
        now (the hub tries later, and sends nothing meanwhile). The default raises
        ``NotImplementedError``: this sender cannot tell, and the hub sends the text again.
        """
        raise NotImplementedError


class ReplyParser(Provider[ConfigT]):
    """Pulls lead fields out of one customer text."""

    kind = Kind.REPLY_PARSER

    @abc.abstractmethod
    async def parse(self, text: str, context: ParseContext) -> ParsedReply:
        """Return what this text says; leave a field ``None`` when it does not say it."""


class Sink(Provider[ConfigT]):
    """Tells the owner about a lead, or pushes it somewhere: receives ``hub.Event``\\ s.

    ``events`` is what a selection of this sink hears unless hub.yaml says otherwise (``on:``);
    ``accepts`` is every kind it can handle, which is what ``on:`` may name. A sink may narrow
    ``events`` from its own settings by setting it on the instance in ``__init__``.
    """

    kind = Kind.SINK
    #: The events a selection hears by default: the owner notifications. Not a ``ClassVar``:
    #: an instance may narrow it from its settings.
    events: frozenset[EventKind] = NOTIFICATIONS
    #: The events ``on:`` may name (by default, ``events``).
    accepts: ClassVar[frozenset[EventKind]] = NOTIFICATIONS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "events" in cls.__dict__ and "accepts" not in cls.__dict__:
            cls.accepts = cls.events  # a class that names its events takes those

    @abc.abstractmethod
    async def deliver(self, event: Event) -> DeliveryResult:
        """Deliver one event. ``event.id`` is the same on every retry of it to this sink: use it
        to make a retry change nothing (an appended row, a created record). Return
        ``DeliveryResult.retry`` for transient failures; raising counts as one."""


KIND_BASES: dict[Kind, type[Provider[Any]]] = {
    Kind.CALL_SOURCE: CallSource,
    Kind.SMS_SENDER: SmsSender,
    Kind.REPLY_PARSER: ReplyParser,
    Kind.SINK: Sink,
}
