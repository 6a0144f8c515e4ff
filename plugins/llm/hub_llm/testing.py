"""A fake OpenAI-compatible chat-completions server for testing the ``llm`` parser.

``FakeLlm`` serves ``POST /v1/chat/completions`` on 127.0.0.1 (real HTTP, a thread of its own)
in OpenAI's wire format: a ``chat.completion`` object whose ``choices[0].message.content`` is
the JSON answer, and OpenAI's error bodies (``{"error": {"message", "type", "param",
"code"}}``). It checks the Bearer token when it has one, and records every request.

What it answers, in order:

1. scripted answers first (``fake.script(...)``, as every kit's fake): ``rate_limited(30)``
   (429 with ``Retry-After``), ``ScriptedResponse(delay=5)`` (slow), ``malformed()`` (a
   completion whose content is not JSON), ``ScriptedResponse(status=500, body=...)``;
2. with ``json_schema=False``, a 400 for ``response_format: json_schema``, as servers
   without structured outputs answer;
3. otherwise the fields of the first ``fake.knows(phrase, fields)`` whose phrase is in the
   customer's text (nulls for the rest of the keys asked for), so a test says what "the model"
   reads in which text.

Use ``with FakeLlm() as fake:`` or the ``fake_llm`` fixture
(``pytest_plugins = ["hub.testing", "hub_llm.testing"]``); ``llm_selection(fake)`` is the
hub.yaml selection pointing at it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.testing import FakeProviderServer, RecordedRequest, ScriptedResponse

DEFAULT_KEY = "sk-test-0123456789"
DEFAULT_MODEL = "test-model"


def completion(
    content: str | None, *, model: str = DEFAULT_MODEL, finish: str = "stop"
) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI returns it."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    }


def error(
    status: int, message: str, kind: str, code: str | None = None, **headers: str
) -> ScriptedResponse:
    return ScriptedResponse(
        status=status,
        body={"error": {"message": message, "type": kind, "param": None, "code": code}},
        headers=headers,
    )


def rate_limited(retry_after: float | str = 20) -> ScriptedResponse:
    """A 429 as OpenAI sends one, with ``Retry-After``."""
    return error(
        429,
        "Rate limit reached for requests per minute. Please try again later.",
        "requests",
        "rate_limit_exceeded",
        **{"Retry-After": str(retry_after)},
    )


def malformed(content: str = '{"service": "leak repair", "zip": ') -> ScriptedResponse:
    """A completion whose content is not the JSON object asked for."""
    return ScriptedResponse(body=completion(content))


class FakeLlm(FakeProviderServer):
    def __init__(self, *, api_key: str | None = DEFAULT_KEY, json_schema: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.json_schema = json_schema
        self.base_url = f"{self.url}/v1"
        self._knows: list[tuple[str, dict[str, Any]]] = []

    def __repr__(self) -> str:
        return f"<FakeLlm {self.base_url}>"

    def knows(self, phrase: str, fields: dict[str, Any]) -> None:
        """Answer ``fields`` for a customer text containing ``phrase`` (case-insensitive)."""
        self._knows.append((phrase.lower(), fields))

    @property
    def completions(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        if request.method != "POST" or not request.url.path.endswith("/v1/chat/completions"):
            return JSONResponse(error(404, "Not found", "invalid_request_error").body, 404)
        if (
            self.api_key is not None
            and request.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            wrong = error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
            return JSONResponse(wrong.body, 401)
        try:
            body = json.loads(recorded.body)
            messages = body["messages"]
            text = next(m["content"] for m in messages if m["role"] == "user")
        except (ValueError, KeyError, StopIteration, TypeError):
            return JSONResponse(
                error(
                    400,
                    "We could not parse the JSON body of your request.",
                    "invalid_request_error",
                ).body,
                400,
            )
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and not self.json_schema:
            refused = error(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported "
                "with this model.",
                "invalid_request_error",
            )
            return JSONResponse(refused.body, 400)
        keys = self._keys(response_format)
        found: dict[str, Any] = {}
        for phrase, fields in self._knows:
            if phrase in text.lower():
                found = fields
                break
        answer = {key: found.get(key) for key in keys} if keys else dict(found)
        return JSONResponse(completion(json.dumps(answer), model=body.get("model", DEFAULT_MODEL)))

    @staticmethod
    def _keys(response_format: dict[str, Any]) -> list[str]:
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return list((schema.get("properties") or {}).keys())


def llm_selection(fake: FakeLlm, **options: Any) -> dict[str, Any]:
    """The hub.yaml ``reply_parsers`` entry for ``fake`` (private address allowed: it is on
    127.0.0.1)."""
    selection: dict[str, Any] = {
        "use": "llm",
        "base_url": fake.base_url,
        "model": DEFAULT_MODEL,
        "allow_private": True,
        "timeout": 2,
    }
    if fake.api_key is not None:
        selection["api_key"] = fake.api_key
    selection.update(options)
    return selection


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    """A running ``FakeLlm``, stopped after the test."""
    with FakeLlm() as fake:
        yield fake  # type: ignore[misc]
