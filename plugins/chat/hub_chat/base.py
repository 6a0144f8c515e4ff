"""``ChatSink``: what the Slack, Discord and Teams sinks share. One message per event (a
retry after a lost answer posts nothing new), through ``hub.public_http_client`` (private
targets refused after DNS), and answers mapped onto ``DeliveryResult``: network errors,
429 and 5xx are retried, the rest is each service's to say."""

from __future__ import annotations

import abc
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, field_validator

import hub
from hub_chat.facts import Facts, facts

#: The longest wait a service's ``Retry-After`` may ask for before we use the hub's backoff.
MAX_WAIT = 3600.0


class ChatConfig(hub.ProviderConfig):
    url: str = Field(description="The incoming-webhook URL the service gave you (keep it secret)")
    allow_private: bool = Field(
        False, description="Allow a URL on a private, loopback or link-local address"
    )
    lead_url: str | None = Field(
        None,
        description=(
            "A link to each lead, {id} and {business} filled in"
            " (https://crm.example.com/leads/{id}); none when unset"
        ),
    )
    timeout: float = Field(10.0, gt=0, le=60, description="Seconds to wait for the answer")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("lead_url")
    @classmethod
    def _template(cls, template: str | None) -> str | None:
        if template is None:
            return None
        try:
            sample = template.format(id=1, business="acme")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may name only {id} and {business}") from None
        if not sample.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return template


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (either form); ``None`` (the hub's backoff) otherwise."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        date = response.headers.get("Date")
        now = parsedate_to_datetime(date) if date else None
        if now is None:
            return None
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_WAIT)


class ChatSink(hub.Sink[ChatConfig]):
    """Posts ``body(facts)`` to ``post_url()``; subclasses read the service's answer."""

    events = hub.NOTIFICATIONS
    accepts = hub.ALL_EVENTS
    #: The service's name, for messages.
    service = "chat"

    async def start(self) -> None:
        self.client = hub.public_http_client(
            allow_private=self.config.allow_private, timeout=self.config.timeout
        )

    async def close(self) -> None:
        await self.client.aclose()

    @property
    def target(self) -> str:
        """Scheme and host: a webhook URL's path is its password."""
        parts = urlsplit(self.config.url)
        return f"{parts.scheme}://{parts.hostname}"

    def problems(self) -> list[str]:
        problem = hub.url_problem(self.config.url, allow_private=self.config.allow_private)
        return [f"url {problem}"] if problem else []

    def post_url(self) -> str:
        return self.config.url

    @abc.abstractmethod
    def body(self, facts: Facts) -> dict[str, Any]:
        """The JSON the service takes, every customer word escaped for its markup."""

    @abc.abstractmethod
    def answer(self, response: httpx.Response) -> hub.DeliveryResult:
        """What the service's answer means; 429 and 5xx never get here."""

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"posted:{event.id}")
        if isinstance(done, dict):  # a retry of a message we posted: the hub lost our answer
            return hub.DeliveryResult.delivered(str(done.get("ref")))
        body = self.body(facts(event, self.context.business.timezone, self.config.lead_url))
        try:
            response = await self.client.post(self.post_url(), json=body)
        except hub.PrivateAddressError as exc:
            return hub.DeliveryResult.failed(f"refused: {exc}")
        except httpx.HTTPError as exc:  # refused, timed out, reset: worth another try
            return hub.DeliveryResult.retry(
                f"{self.service} at {self.target}: {type(exc).__name__}"
            )
        status = response.status_code
        if status == 429 or status >= 500:
            return hub.DeliveryResult.retry(
                f"{self.service} answered {status}", retry_after=self.wait(response)
            )
        result = self.answer(response)
        if result.status == hub.DeliveryStatus.DELIVERED:
            # A dict: the state table's JSON column reads a bare string back as JSON text.
            await state.set(f"posted:{event.id}", {"ref": result.reference or str(status)})
        return result

    def wait(self, response: httpx.Response) -> float | None:
        """How long the service asked us to wait (``Retry-After`` unless it says otherwise)."""
        return retry_after(response)

    def refused(self, response: httpx.Response, why: str) -> hub.DeliveryResult:
        return hub.DeliveryResult.failed(f"{self.service} answered {response.status_code}: {why}")
