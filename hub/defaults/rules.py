"""``rules`` reply parser: the default reader of customers' replies (see ``hub.rules``)."""

from __future__ import annotations

from collections.abc import Callable

from hub.hookspecs import hookimpl
from hub.providers import ReplyParser
from hub.rules import RulesParser


@hookimpl
def hub_register_reply_parsers(register: Callable[[type[ReplyParser]], None]) -> None:
    register(RulesParser)
