"""``LlmParser``: the fields the parsers before it left empty, from a chat-completions endpoint.

It runs after ``rules`` and adds only what is still empty (``context.found`` is what the chain
found so far; the core keeps earlier parsers' fields either way). It never says anything about
the intent: an opt-out is decided by the core's keywords before any parser runs, so no answer,
late answer or outage of the model can keep a STOP from being honoured.

Bounded: one request per reply at most (plus one retry without the JSON schema, the first time
a server refuses it), within ``timeout``, and no more than ``daily_budget`` per business per
local day. A 429 pauses the parser for that business for as long as ``Retry-After`` says (at
most an hour). Whatever goes wrong - timeout, refusal, malformed JSON, a value that fails the
checks - the reply keeps what the parsers before it found. Logs name the business, the status
and the kind of failure, never the customer's text or the model's answer.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from hub import ParseContext, ParsedReply, ReplyParser, public_http_client, url_problem
from hub_llm import budget
from hub_llm.answer import json_schema, messages, read_answer
from hub_llm.config import FieldName, LlmConfig

#: Plugin state key: until when (epoch seconds) a 429 told us to stay away.
PAUSED_UNTIL = "paused_until"
_MAX_PAUSE = 3600.0
_MAX_ANSWER = 64 * 1024


class LlmParser(ReplyParser[LlmConfig]):
    name = "llm"
    description = "Fills fields earlier parsers missed with a language model (OpenAI-compatible)"

    _client: httpx.AsyncClient | None = None
    #: Cleared the first time the server refuses ``response_format: json_schema``.
    _schema_supported = True

    def problems(self) -> list[str]:
        problem = url_problem(self.config.base_url, allow_private=self.config.allow_private)
        return [f"base_url: {problem}"] if problem else []

    async def start(self) -> None:
        headers = {"Accept": "application/json"}
        if self.config.api_key is not None:
            headers["Authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        self._client = public_http_client(
            allow_private=self.config.allow_private, timeout=self.config.timeout, headers=headers
        )
        self._schema_supported = self.config.structured_output == "json_schema"

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def parse(self, text: str, context: ParseContext) -> ParsedReply:
        fields = [f for f in self.config.fields if getattr(context.found, f) is None]
        text = text.strip()[: self.config.max_text]
        if not fields or not text:
            return ParsedReply()
        log = self.context.log
        business = self.context.business
        now = self.context.now()
        paused = await self.context.state.get(PAUSED_UNTIL)
        if isinstance(paused, (int, float)) and now.timestamp() < paused:
            log.info(
                "llm: %s is rate limited for %.0f s more", business.slug, paused - now.timestamp()
            )
            return ParsedReply()
        if not await budget.take(
            self.context.state, now, business.timezone, self.config.daily_budget
        ):
            log.warning(
                "llm: %s has used its daily budget of %d requests; the rules alone read replies "
                "until midnight",
                business.slug,
                self.config.daily_budget,
            )
            return ParsedReply()
        try:
            content = await self._ask(text, context, fields)
            return read_answer(content, context, fields) if content is not None else ParsedReply()
        except httpx.TimeoutException:
            log.warning("llm: no answer for %s within %.1f s", business.slug, self.config.timeout)
        except httpx.HTTPError as exc:
            log.warning("llm: request for %s failed: %s", business.slug, type(exc).__name__)
        except ValueError as exc:
            log.warning("llm: unusable answer for %s: %s", business.slug, exc)
        return ParsedReply()

    async def _ask(self, text: str, context: ParseContext, fields: list[FieldName]) -> str | None:
        """The model's answer text, or ``None`` when the server said no (logged)."""
        if self._client is None:
            await self.start()
        assert self._client is not None
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages(text, context, fields),
            "temperature": 0,
        }
        schema = {
            "type": "json_schema",
            "json_schema": {
                "name": "lead_fields",
                "strict": True,
                "schema": json_schema(fields, list(context.services)),
            },
        }
        body["response_format"] = schema if self._schema_supported else {"type": "json_object"}
        response = await self._client.post(url, json=body)
        if response.status_code == 400 and self._schema_supported:
            # Servers without structured outputs refuse the json_schema format: ask plainly.
            self._schema_supported = False
            self.context.log.info("llm: %s refused json_schema; using json_object", url)
            body["response_format"] = {"type": "json_object"}
            response = await self._client.post(url, json=body)
        return await self._content(response)

    async def _content(self, response: httpx.Response) -> str | None:
        log, slug = self.context.log, self.context.business.slug
        if response.status_code == 429:
            pause = _retry_after(response.headers.get("retry-after"), self.context.now())
            await self.context.state.set(PAUSED_UNTIL, self.context.now().timestamp() + pause)
            log.warning("llm: rate limited for %s; pausing %.0f s", slug, pause)
            return None
        if response.status_code != 200:
            log.warning("llm: the server answered %d for %s", response.status_code, slug)
            return None
        if len(response.content) > _MAX_ANSWER:
            raise ValueError(f"the answer is over {_MAX_ANSWER} bytes")
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ValueError("the response is not a chat completion") from None
        if choice.get("finish_reason") not in (None, "stop"):
            raise ValueError(f"the answer stopped early ({choice.get('finish_reason')})")
        if not isinstance(content, str):
            raise ValueError("the completion has no text (a refusal?)")
        return content


def _retry_after(value: str | None, now: datetime) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); 60 if absent
    or unreadable, never more than an hour."""
    seconds = 60.0
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - now).total_seconds()
            except (TypeError, ValueError):
                seconds = 60.0
    return min(max(seconds, 1.0), _MAX_PAUSE) if seconds == seconds else 60.0
