"""hub-postbin: POSTs lead events as JSON to a URL.

The plugin that CONTRIBUTING.md's "Walkthrough: a webhook sink" builds, step by step; the
walkthrough quotes this file (``tests/test_example_sink.py`` fails if the two drift apart). As a
package of its own it would be ``hub_postbin/__init__.py``. It imports only ``hub``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import httpx
from pydantic import Field, SecretStr

import hub


class PostbinConfig(hub.ProviderConfig):
    url: str = Field(description="Where each event is POSTed, as JSON")
    token: SecretStr | None = Field(None, description="Bearer token; write {$env: POSTBIN_TOKEN}")
    timeout: float = Field(10.0, gt=0, description="Seconds to wait for the receiver's answer")


class PostbinSink(hub.Sink[PostbinConfig]):
    name = "postbin"  # hub.yaml: sinks: [{use: postbin, url: ...}]
    description = "POSTs lead events as JSON to a URL"
    events = hub.LEAD_CHANGES  # what a selection hears unless hub.yaml says `on:`
    accepts = hub.ALL_EVENTS  # what `on:` may name

    async def start(self) -> None:
        headers: dict[str, str] = {}
        if self.config.token is not None:
            headers["Authorization"] = f"Bearer {self.config.token.get_secret_value()}"
        self.client = httpx.AsyncClient(headers=headers, timeout=self.config.timeout)

    async def close(self) -> None:
        await self.client.aclose()

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"delivered:{event.id}")
        if done is not None:  # a retry of an event we posted: the hub lost our answer
            return hub.DeliveryResult.delivered(str(done))
        if event.kind in hub.LEAD_CHANGES and await self.is_stale(event):
            return hub.DeliveryResult.delivered("stale")  # a newer version is already there
        try:
            response = await self.client.post(
                self.config.url,
                content=json.dumps(payload(event), default=_json_default),
                headers={"Content-Type": "application/json", "Idempotency-Key": event.id},
            )
        except httpx.HTTPError as exc:  # refused, timed out, reset: worth another try
            return hub.DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if status == 429 or status >= 500:
            return hub.DeliveryResult.retry(
                f"postbin answered {status}", retry_after=retry_after(response)
            )
        if status >= 400:  # the receiver refuses this event: trying again cannot help
            return hub.DeliveryResult.failed(f"postbin refused it: {status} {response.text[:200]}")
        await state.set(f"delivered:{event.id}", status)
        if event.kind in hub.LEAD_CHANGES:
            await self.applied(event)
        return hub.DeliveryResult.delivered(str(status))

    async def is_stale(self, event: hub.Event) -> bool:
        """Whether a newer version of this lead was already posted."""
        last = await self.context.state.get(f"lead:{event.lead.id}:version")
        return isinstance(last, int) and event.lead_version < last

    async def applied(self, event: hub.Event) -> None:
        """Remember the newest version posted: another delivery may be racing this one."""
        key = f"lead:{event.lead.id}:version"
        while True:
            last = await self.context.state.get(key)
            if isinstance(last, int) and last >= event.lead_version:
                return
            if await self.context.state.compare_and_set(key, last, event.lead_version):
                return


def payload(event: hub.Event) -> dict[str, Any]:
    """The JSON body: the event, the lead as it is now, and what changed."""
    return {
        "id": event.id,
        "kind": event.kind.value,
        "business": event.business,
        "at": event.at,
        "actor": event.actor,
        "lead_version": event.lead_version,
        "lead": asdict(event.lead),
        "changes": {name: asdict(change) for name, change in event.changes.items()},
        "message": asdict(event.message) if event.message else None,
        "call": asdict(event.call) if event.call else None,
        "text": event.notification.text if event.notification else None,
    }


def _json_default(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds; ``None`` (the hub's backoff) for a date or nothing."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


@hub.hookimpl
def hub_register_sinks(register: Callable[[type[hub.Sink]], None]) -> None:
    register(PostbinSink)
