"""The ``rules`` reply parser: each field from its own module, no network, no model."""

from __future__ import annotations

from hub.defaults.rules.callback import find_callback
from hub.defaults.rules.names import find_name
from hub.defaults.rules.places import find_zip
from hub.defaults.rules.services import find_service
from hub.defaults.rules.spanish import in_english
from hub.defaults.rules.urgency import find_urgency
from hub.keywords import classify_intent
from hub.providers import ReplyParser
from hub.text import normalize
from hub.types import ParseContext, ParsedReply


def read_reply(text: str, context: ParseContext) -> ParsedReply:
    """Every field ``text`` gives, for the business and arrival time in ``context``.

    Fields are read whatever the intent: a parser reports what the text says, and the core
    decides what an opt-out's other words are worth.
    """
    normalized = in_english(normalize(text))
    return ParsedReply(
        intent=classify_intent(text),
        service=find_service(normalized, context.services),
        zip=find_zip(text),
        urgency=find_urgency(normalized, context.received_at),
        callback=find_callback(normalized, context.received_at),
        name=find_name(text),
    )


class RulesParser(ReplyParser):
    name = "rules"
    description = "Reads service, ZIP, urgency, callback time, name and opt-outs with rules"

    async def parse(self, text: str, context: ParseContext) -> ParsedReply:
        return read_reply(text, context)
