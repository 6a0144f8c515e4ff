"""Chat messages for the missed-call text-back hub: the ``slack``, ``discord`` and ``teams``
sinks, each posting to an incoming-webhook URL of that service.

Selected in hub.yaml with ``sinks: [{use: slack, url: ...}]``; by default each hears the owner
notifications. ``hub_chat.testing`` has a fake of each service.
"""

from __future__ import annotations

from collections.abc import Callable

from hub import Sink, hookimpl
from hub_chat.base import ChatConfig, ChatSink
from hub_chat.discord import DiscordSink
from hub_chat.slack import SlackSink
from hub_chat.teams import TeamsSink

__all__ = ["ChatConfig", "ChatSink", "DiscordSink", "SlackSink", "TeamsSink"]


@hookimpl
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(SlackSink)
    register(DiscordSink)
    register(TeamsSink)
