"""Slack incoming webhooks: ``{"text", "blocks"}`` (Block Kit) POSTed to the hooks.slack.com
URL; ``200 ok`` is success, errors are plain-text codes."""

from __future__ import annotations

from typing import Any

import httpx

import hub
from hub_chat.base import ChatSink
from hub_chat.facts import Facts, clip

#: Slack's error codes, as a person would want to hear them.
ERRORS = {
    "invalid_payload": "Slack could not read the message (a bug: please report it)",
    "no_text": "Slack got a message without text (a bug: please report it)",
    "missing_text_or_fallback_or_attachments": "Slack got an empty message (please report it)",
    "invalid_token": "the webhook URL is wrong or was revoked: make a new one in Slack",
    "no_service": "the webhook was removed or its app uninstalled: make a new one in Slack",
    "no_service_id": "the webhook URL is incomplete: copy it again from Slack",
    "no_team": "the Slack workspace of this webhook is gone",
    "team_disabled": "the Slack workspace of this webhook is disabled",
    "channel_not_found": "the webhook's channel no longer exists: make a new webhook",
    "channel_is_archived": "the webhook's channel is archived: unarchive it or make a new webhook",
    "action_prohibited": "a Slack admin restricted posting to the webhook's channel",
    "posting_to_general_channel_denied": "only admins may post to the webhook's channel",
    "too_many_attachments": "Slack refused the message's size (please report it)",
}
#: Section text may hold 3000 characters, a field 2000.
TEXT_LIMIT = 2900
FIELD_LIMIT = 1900


def escape(text: str) -> str:
    """Customer words for Slack mrkdwn: ``&``, ``<`` and ``>`` as entities, so ``<!channel>``
    or ``<http://evil|x>`` stays text and pings or links nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(facts: Facts) -> list[dict[str, Any]]:
    header = ("🚨 " if facts.urgent else "") + facts.title
    result: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(header, 150)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(escape(facts.summary), TEXT_LIMIT)},
        },
    ]
    if facts.rows:
        result.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f"*{label}*\n{escape(value)}", FIELD_LIMIT)}
                    for label, value in facts.rows[:10]  # Slack's limit per section
                ],
            }
        )
    for word in facts.words:
        quoted = "\n".join(f"> {line}" for line in escape(word).splitlines() or [""])
        result.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(quoted, TEXT_LIMIT)}}
        )
    result.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"ref {escape(facts.reference)}"}],
        }
    )
    if facts.link:
        result.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the lead"},
                        "url": facts.link,
                    }
                ],
            }
        )
    return result


class SlackSink(ChatSink):
    name = "slack"  # hub.yaml: sinks: [{use: slack, url: https://hooks.slack.com/services/...}]
    description = "Posts owner notifications to a Slack channel (incoming webhook)"
    service = "Slack"

    def body(self, facts: Facts) -> dict[str, Any]:
        # `text` is the fallback for notifications and screen readers: escaped too.
        return {
            "text": clip(escape(f"{facts.title}: {facts.summary}"), TEXT_LIMIT),
            "blocks": blocks(facts),
        }

    def answer(self, response: httpx.Response) -> hub.DeliveryResult:
        text = response.text.strip()
        if response.status_code == 200 and text == "ok":
            return hub.DeliveryResult.delivered("ok")
        code = text[:100] or "(no body)"
        return self.refused(response, f"{code}: {ERRORS.get(code, 'Slack refused the message')}")
