"""Discord webhooks: ``POST {url}?wait=true`` with ``content``, ``embeds`` and
``allowed_mentions``; 200 with the created message; errors as ``{"message", "code"}``; a rate
limit as 429 ``{"message", "retry_after", "global"}``."""

from __future__ import annotations

import re
from typing import Any

import httpx

import hub
from hub_chat.base import MAX_WAIT, ChatSink
from hub_chat.facts import Facts, clip

#: Markdown Discord reads: emphasis, code, spoilers, quotes, headings, lists, links, masks.
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<:!.+])")
#: Discord's limits: content 2000, description 4096, field value 1024, title 256.
URGENT, NORMAL = 0xD83C3E, 0x2B6CB0


def escape(text: str) -> str:
    """Customer words for Discord markdown: each markup character backslashed, and every ``@``
    followed by a zero-width space, so ``@everyone``, ``<@123>`` or ``||spoiler||`` stay text
    (``allowed_mentions`` already pings nobody; this keeps them from even looking like one)."""
    return _MARKDOWN.sub(r"\\\1", text).replace("@", "@\u200b")


def embed(facts: Facts) -> dict[str, Any]:
    fields = [
        {"name": label, "value": clip(escape(value), 1024), "inline": True}
        for label, value in facts.rows
    ]
    fields += [
        {"name": "They wrote", "value": clip(escape(word) or "-", 1024), "inline": False}
        for word in facts.words
    ]
    result: dict[str, Any] = {
        "title": clip(escape(facts.title), 256),
        "description": clip(escape(facts.summary), 4096),
        "color": URGENT if facts.urgent else NORMAL,
        "fields": fields[:25],
        "footer": {"text": f"ref {facts.reference}"},
    }
    if facts.link:
        result["url"] = facts.link
    return result


class DiscordSink(ChatSink):
    name = "discord"  # hub.yaml: sinks: [{use: discord, url: https://discord.com/api/webhooks/...}]
    description = "Posts owner notifications to a Discord channel (webhook)"
    service = "Discord"

    def post_url(self) -> str:
        # wait=true: Discord answers with the message it created, or the error, not a bare 204.
        return str(httpx.URL(self.config.url).copy_merge_params({"wait": "true"}))

    def body(self, facts: Facts) -> dict[str, Any]:
        return {
            "content": clip(escape(facts.title), 2000),
            "embeds": [embed(facts)],
            "allowed_mentions": {"parse": []},
        }

    def wait(self, response: httpx.Response) -> float | None:
        try:
            seconds = float(response.json()["retry_after"])  # seconds, fractional
        except (ValueError, KeyError, TypeError):
            return super().wait(response)
        return min(max(seconds, 0.0), MAX_WAIT)

    def answer(self, response: httpx.Response) -> hub.DeliveryResult:
        status = response.status_code
        if status in (200, 204):
            try:
                reference = str(response.json()["id"])
            except (ValueError, KeyError, TypeError):
                reference = str(status)
            return hub.DeliveryResult.delivered(reference)
        try:
            said = str(response.json().get("message", ""))[:200]
        except (ValueError, AttributeError):
            said = response.text[:200]
        if status == 404:
            return self.refused(
                response,
                f"{said or 'Unknown Webhook'}: the webhook was deleted; make a new one in Discord",
            )
        if status == 401:
            return self.refused(
                response, f"{said or 'Invalid Webhook Token'}: copy the webhook URL again"
            )
        return self.refused(response, said or "Discord refused the message")
