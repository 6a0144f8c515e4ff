"""The provider instances a business selected in hub.yaml, built from the loaded plugins.

``Hub`` builds them over its ``PluginHost``; ``hub check`` builds them over ``OfflineRuntime``,
only to ask each for its ``problems()``, which is why this module stays clear of the store:
checking a config never imports the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from hub.clock import Clock
from hub.config import Business, HubConfig
from hub.context import BusinessView, ProviderContext, Runtime
from hub.plugins import Plugins
from hub.providers import CallSource, Kind, Provider, ReplyParser, Sink, SmsSender


@dataclass
class BusinessProviders:
    """The provider instances one business selected in hub.yaml."""

    call_source: CallSource
    senders: list[SmsSender]
    parsers: list[ReplyParser]
    sinks: list[Sink]

    def all(self) -> list[Provider[Any]]:
        return [self.call_source, *self.senders, *self.parsers, *self.sinks]


def business_view(business: Business) -> BusinessView:
    return BusinessView(
        slug=business.slug,
        name=business.name,
        timezone=business.timezone,
        numbers=tuple(business.numbers),
        region=business.region,
        forward_to=business.forward_to,
        owner_email=business.owner.email,
        owner_phone=business.owner.phone,
    )


def build_providers(business: Business, plugins: Plugins, runtime: Runtime) -> BusinessProviders:
    view = business_view(business)

    def make(kind: Kind, use: str, config: Any) -> Provider[Any]:
        cls = plugins.provider(kind, use)
        return cls(config, ProviderContext(runtime, view, cls.name, plugins.owner(kind, cls.name)))

    built = {path: make(kind, sel.use, sel.config) for path, kind, sel in business.selections()}
    fallbacks = range(len(business.sms_sender.fallbacks))
    return BusinessProviders(
        call_source=cast(CallSource, built["call_source"]),
        senders=[cast(SmsSender, built["sms_sender"])]
        + [cast(SmsSender, built[f"sms_sender.fallbacks[{i}]"]) for i in fallbacks],
        parsers=[
            cast(ReplyParser, built[f"reply_parsers[{i}]"])
            for i in range(len(business.reply_parsers))
        ],
        sinks=[cast(Sink, built[f"sinks[{i}]"]) for i in range(len(business.sinks))],
    )


class OfflineRuntime:
    """The runtime of providers built only to be checked: they may read the configuration,
    and anything that needs a running hub (jobs, state, webhooks) says so."""

    def __init__(self, config: HubConfig) -> None:
        self.clock = Clock()
        self.public_url = config.public_url
        self._views = [business_view(b) for b in config.businesses.values()]

    def businesses(self) -> Sequence[BusinessView]:
        return self._views

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"{name}: the hub is not running (its providers are only being checked)")


def offline_providers(config: HubConfig, plugins: Plugins) -> dict[str, BusinessProviders]:
    """Every business's providers, over an ``OfflineRuntime``."""
    runtime = cast(Runtime, OfflineRuntime(config))
    return {slug: build_providers(b, plugins, runtime) for slug, b in config.businesses.items()}
