"""The default reply parser, ``rules``: reads a customer's reply to the text-back with plain
rules, one module per field (``services``, ``places``, ``urgency``, ``callback``, ``names``;
the intent comes from the core's compliance keywords, ``hub.keywords``)."""

from __future__ import annotations

from collections.abc import Callable

from hub.defaults.rules.parser import RulesParser, read_reply
from hub.hookspecs import hookimpl
from hub.keywords import classify_intent
from hub.providers import ReplyParser

__all__ = ["RulesParser", "classify_intent", "read_reply"]


@hookimpl
def hub_register_reply_parsers(register: Callable[[type[ReplyParser]], None]) -> None:
    register(RulesParser)
