"""A language-model reply parser for the missed-call text-back hub: the ``llm`` parser.

Selected in hub.yaml after ``rules``: ``reply_parsers: [{use: rules}, {use: llm, base_url: ...,
model: ..., api_key: {$env: LLM_API_KEY}}]``. It asks any OpenAI-compatible chat-completions
endpoint for the fields the parsers before it left empty, within a timeout and a daily budget
per business; see the README. ``hub_llm.testing`` has a fake OpenAI-compatible server.
"""

from __future__ import annotations

from collections.abc import Callable

from hub import ReplyParser, hookimpl
from hub_llm.config import LlmConfig
from hub_llm.parser import LlmParser

__all__ = ["LlmConfig", "LlmParser"]


@hookimpl
def hub_register_reply_parsers(register: Callable[[type[ReplyParser]], None]) -> None:
    register(LlmParser)
