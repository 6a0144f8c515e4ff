"""Microsoft Teams through a Workflows (Power Automate) webhook: a ``message`` carrying one
Adaptive Card (1.4; the retired Office 365 connectors' MessageCard is not used). The flow
answers 202 Accepted (200 from some); errors as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import re
from typing import Any

import httpx

import hub
from hub_chat.base import ChatSink
from hub_chat.facts import Facts, clip

#: The markdown subset TextBlocks read: emphasis, links, lists, headings, code.
_MARKDOWN = re.compile(r"([\\*_~`\[\]()#+\-!>|])")
_ORDERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)
CARD = "application/vnd.microsoft.card.adaptive"


def escape(text: str) -> str:
    """Customer words for an Adaptive Card TextBlock: markdown characters backslashed, and a
    line that starts like a numbered list item kept from becoming one."""
    return _ORDERED.sub(r"\1\\.", _MARKDOWN.sub(r"\\\1", text))


def card(facts: Facts) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": clip(escape(facts.title), 500),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Attention" if facts.urgent else "Default",
        },
        {"type": "TextBlock", "text": clip(escape(facts.summary), 4000), "wrap": True},
    ]
    if facts.rows:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": escape(value)} for label, value in facts.rows],
            }
        )
    for word in facts.words:
        body.append(
            {
                "type": "TextBlock",
                "text": clip(escape(word), 4000),
                "wrap": True,
                "isSubtle": True,
                "separator": True,
            }
        )
    body.append(
        {
            "type": "TextBlock",
            "text": f"ref {escape(facts.reference)}",
            "isSubtle": True,
            "size": "Small",
        }
    )
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if facts.link:
        content["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open the lead", "url": facts.link}
        ]
    return content


class TeamsSink(ChatSink):
    name = "teams"  # hub.yaml: sinks: [{use: teams, url: <the Workflows webhook URL>}]
    description = "Posts owner notifications to a Microsoft Teams channel (Workflows webhook)"
    service = "Teams"

    def body(self, facts: Facts) -> dict[str, Any]:
        return {
            "type": "message",
            "attachments": [{"contentType": CARD, "contentUrl": None, "content": card(facts)}],
        }

    def answer(self, response: httpx.Response) -> hub.DeliveryResult:
        status = response.status_code
        if status in (200, 202):
            return hub.DeliveryResult.delivered(str(status))
        try:
            error = response.json().get("error", {})
            said = f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")[:200]
        except (ValueError, AttributeError):
            said = response.text[:200]
        if status == 404:
            return self.refused(
                response, f"{said or 'not found'}: the workflow was deleted or its URL is wrong"
            )
        if status in (401, 403):
            return self.refused(
                response, f"{said or 'forbidden'}: the workflow refuses this URL; copy it again"
            )
        return self.refused(response, said or "Teams refused the message")
