"""``WebhookSink``: each event POSTed once, signed, to the URL of one selection.

How answers map (Standard Webhooks' rules, with the hub's durable retries):

- 2xx: delivered. The event id is remembered, so a retry after a lost answer posts nothing.
- 410 Gone: the receiver asks us to stop. The endpoint is disabled for this business (plugin
  state), the owner is told once, ``hub check`` warns, and later events fail without a request.
- 429, 5xx, 408, network errors: tried again on the spec's schedule (5 s, 5 min, 30 min, 2 h,
  5 h, 10 h, 14 h, 20 h, 24 h, with jitter), or when ``Retry-After`` says.
- 3xx and any other 4xx: failed for good, with what the receiver said: the same request would
  get the same answer (redirects are never followed: they could lead anywhere).
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

import hub
from hub_webhook.config import WebhookConfig, key_bytes
from hub_webhook.payload import payload
from hub_webhook.signing import sign

#: Seconds before retry N (after attempt N fails), from the Standard Webhooks spec.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
#: The longest ``Retry-After`` we wait for: the spec's longest step.
MAX_WAIT = 86400.0
TRANSIENT = {408, 425, 429}


def backoff(attempt: int) -> float:
    """The delay after attempt ``attempt`` (1-based) failed, with ±10% jitter so many
    receivers that failed together are not retried together."""
    step = SCHEDULE[min(max(attempt, 1), len(SCHEDULE)) - 1]
    return step * random.uniform(0.9, 1.1)


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    """``Retry-After`` in seconds (either form), capped; ``None`` if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_WAIT)


class WebhookSink(hub.Sink[WebhookConfig]):
    name = "webhook"  # hub.yaml: sinks: [{use: webhook, url: ..., secret: ...}]
    description = "POSTs every event as signed JSON (Standard Webhooks) to a URL"
    events = hub.ALL_EVENTS
    accepts = hub.ALL_EVENTS

    async def start(self) -> None:
        self._key = key_bytes(self.config.secret)
        self.client = hub.public_http_client(
            allow_private=self.config.allow_private, timeout=self.config.timeout
        )

    async def close(self) -> None:
        await self.client.aclose()

    @property
    def target(self) -> str:
        """The URL's scheme and host: safe to show (its path or query may hold a token)."""
        parts = urlsplit(self.config.url)
        return f"{parts.scheme}://{parts.hostname}"

    @property
    def endpoint_key(self) -> str:
        # Keyed by the URL, so pointing the selection at a fixed URL enables it again.
        digest = hashlib.sha256(self.config.url.encode()).hexdigest()[:16]
        return f"disabled:{digest}"

    def problems(self) -> list[str]:
        problem = hub.url_problem(self.config.url, allow_private=self.config.allow_private)
        if problem:
            return [f"url {problem}"]
        if self.config.url.lower().startswith("http://") and not self.config.allow_private:
            return [
                "url is http://: the customer's details would cross the internet unencrypted;"
                " use https:// (or allow_private: true for a receiver on your own network)"
            ]
        return []

    async def warnings(self) -> list[str]:
        disabled = await self.context.state.get(self.endpoint_key)
        if disabled is None:
            return []
        return [
            f"{self.gone(disabled)}: nothing is sent to it any more; point url at a working"
            " endpoint to enable it again"
        ]

    def gone(self, disabled: hub.JSON) -> str:
        since = disabled.get("at") if isinstance(disabled, dict) else None
        return f"{self.target} answered 410 Gone" + (f" on {since}" if since else "")

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"sent:{event.id}")
        if done is not None:  # a retry of an event the receiver took: the hub lost our answer
            return hub.DeliveryResult.delivered(str(done))
        disabled = await state.get(self.endpoint_key)
        if disabled is not None:  # no request: the receiver asked us to stop
            return hub.DeliveryResult.failed(f"disabled: {self.gone(disabled)}")
        body = payload(event)
        timestamp = int(self.context.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, event.id, timestamp, body),
        }
        try:
            response = await self.client.post(self.config.url, content=body, headers=headers)
        except hub.PrivateAddressError as exc:
            return hub.DeliveryResult.failed(f"refused: {exc}")
        except httpx.HTTPError as exc:  # refused, timed out, reset: worth another try
            return hub.DeliveryResult.retry(
                f"{self.target}: {type(exc).__name__}", retry_after=backoff(event.attempt)
            )
        return await self.answer(event, response)

    async def answer(self, event: hub.Event, response: httpx.Response) -> hub.DeliveryResult:
        """What the receiver's answer means (see the module's docstring)."""
        status = response.status_code
        if 200 <= status < 300:
            await self.context.state.set(f"sent:{event.id}", status)
            return hub.DeliveryResult.delivered(str(status))
        if status == 410:
            return await self.disable(event)
        if status in TRANSIENT or status >= 500:
            wait = retry_after(response, self.context.now())
            return hub.DeliveryResult.retry(
                f"{self.target} answered {status}",
                retry_after=wait if wait is not None else backoff(event.attempt),
            )
        if 300 <= status < 400:
            return hub.DeliveryResult.failed(
                f"{self.target} answered {status} (a redirect, not followed): set url to the"
                " address it redirects to"
            )
        return hub.DeliveryResult.failed(
            f"{self.target} refused it: {status} {response.text[:200]}".rstrip()
        )

    async def disable(self, event: hub.Event) -> hub.DeliveryResult:
        at = self.context.now().isoformat(timespec="seconds")
        await self.context.state.compare_and_set(self.endpoint_key, None, {"at": at})
        await self.context.tell_owner(
            self.endpoint_key,
            f"your webhook at {self.target} answered 410 Gone, which asks us to stop; the hub"
            " sends it nothing more. Point its url in hub.yaml at a working endpoint to start"
            " again",
            lead_id=event.lead.id,
        )
        return hub.DeliveryResult.failed(f"{self.target} answered 410 Gone: endpoint disabled")
