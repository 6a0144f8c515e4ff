"""``reply_parsers: [..., {use: llm, ...}]``: the endpoint, the model and the bounds."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from hub import ProviderConfig

#: The fields the parser may fill (never the intent: opt-outs are the core's keywords alone).
FieldName = Literal["service", "zip", "urgency", "callback", "name"]
ALL_FIELDS: tuple[FieldName, ...] = ("service", "zip", "urgency", "callback", "name")


class LlmConfig(ProviderConfig):
    base_url: str = Field(
        description="The API's base URL, up to and including /v1 "
        "(https://api.openai.com/v1, http://127.0.0.1:11434/v1 for Ollama...)",
        min_length=8,
    )
    model: str = Field(description="The model name the endpoint knows", min_length=1)
    api_key: SecretStr | None = Field(
        None, description="Sent as a Bearer token; servers on your own machines may need none"
    )
    timeout: float = Field(
        8.0,
        gt=0,
        le=60,
        description="Seconds to wait for an answer before keeping what rules found",
    )
    daily_budget: int = Field(
        200,
        ge=0,
        description="Most requests per business per day (the business's local day); "
        "past it, replies are read by the parsers before this one alone",
    )
    fields: list[FieldName] = Field(
        default_factory=lambda: list(ALL_FIELDS),
        min_length=1,
        description="Which fields to ask for when the parsers before this one left them empty",
    )
    structured_output: Literal["json_schema", "json_object"] = Field(
        "json_schema",
        description="How to ask for JSON: a strict JSON schema where the server supports it "
        "(it falls back to json_object once if the server refuses), or json_object only",
    )
    max_text: int = Field(
        1200, ge=50, le=8000, description="Longest part of a reply sent to the model, in characters"
    )
    allow_private: bool = Field(
        False,
        description="Allow a base_url on a private or loopback address (a model served on your "
        "own network); off by default so a typo cannot reach internal services",
    )
