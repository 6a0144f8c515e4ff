"""The default reply parser, ``rules``: reads a customer's reply to the text-back with plain
rules, one module per field (``intent``, ``services``, ``places``, ``urgency``, ``callback``,
``names``). ``classify_intent`` is usable alone, e.g. for compliance keywords on arrival."""

from hub.rules.intent import classify_intent
from hub.rules.parser import RulesParser, read_reply

__all__ = ["RulesParser", "classify_intent", "read_reply"]
