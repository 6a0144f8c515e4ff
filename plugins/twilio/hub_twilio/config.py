"""Settings of the ``twilio`` call source and SMS sender.

The key names are a public contract: hub.yaml files in the wild use them. The call source and
the sender each take the account keys (each business may use its own subaccount); an agency on
one account sets them once under ``defaults:``, and each business adds its own ``mode`` and
``from``, since the core merges a business's selection over the default one key by key.

Messages that say what is missing are raised from field validators (``validate_default``), so
``hub check`` prints them under the key's own path.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from hub import ProviderConfig, to_e164

DEFAULT_API_BASE_URL = "https://api.twilio.com"

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_URL = re.compile(r"^https?://[^/\s?#]+/?$")

#: Lookup v2 line types that cannot take a text (Twilio's ``line_type_intelligence.type``).
#: The longest recording Twilio's ``<Record transcribe>`` transcribes, in seconds.
TRANSCRIBE_MAX_LENGTH = 120
DEFAULT_SKIP_LINE_TYPES = ("landline", "pager", "premium", "sharedCost", "uan", "voicemail")


class TwilioAccount(ProviderConfig):
    """The keys every ``twilio`` selection has: whose account, and where its API lives."""

    account_sid: str = Field(
        "",
        validate_default=True,
        description="Account SID (AC…) of the Twilio account or subaccount owning the numbers",
    )
    auth_token: SecretStr = Field(
        SecretStr(""),
        validate_default=True,
        description="That account's primary Auth Token: it signs Twilio's webhooks and "
        "authenticates the hub's API calls. Write it as {$env: NAME} or {$file: path}",
    )
    webhook_shared_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="SharedKey id → secret, for webhooks a Twilio Webhook Rule signs with "
        "HMAC-SHA256 (X-Twilio-Webhooks-Signature-Settings). Without an entry for the key "
        "a request names, the Auth Token is tried",
    )
    api_base_url: str = Field(
        DEFAULT_API_BASE_URL,
        description="Base URL of Twilio's REST API. Change it only to route the hub's API calls "
        "through a gateway or to a test server; every API call (messages and Lookup) then goes "
        "to this host",
    )

    @field_validator("account_sid")
    @classmethod
    def _account_sid(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(
                "is required: the Account SID (AC followed by 32 hex digits) of the Twilio "
                "account that owns the business's numbers (Twilio console → Account info)"
            )
        if not _ACCOUNT_SID.match(value):
            raise ValueError(
                "must be an Account SID: AC followed by 32 hex digits (Twilio console → "
                "Account info); an API key SID (SK…) is not an account"
            )
        return value

    @field_validator("auth_token")
    @classmethod
    def _auth_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(
                "is required: the account's Auth Token (Twilio console → Account info), "
                "written as {$env: TWILIO_AUTH_TOKEN} or {$file: path}"
            )
        return value

    @field_validator("api_base_url")
    @classmethod
    def _api_base_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be a scheme and host only, like https://api.twilio.com")
        return value.rstrip("/")


class TwilioCallConfig(TwilioAccount):
    """``call_source: {use: twilio, ...}``."""

    mode: Literal["forward", "catch"] | None = Field(
        None,
        validate_default=True,
        description="`forward`: the Twilio number is the number customers call; the hub rings "
        "the business's forward_to and texts back when nobody takes the call. `catch`: the "
        "business's own phone forwards unanswered calls to the Twilio number; every call "
        "reaching it was missed",
    )
    ring_timeout: int = Field(
        20,
        ge=5,
        le=600,
        description="Seconds to ring forward_to before the call counts as missed (Twilio adds "
        "about 5 s of its own)",
    )
    screening: bool = Field(
        False,
        description="Ask whoever picks up at forward_to to press a key before the caller is "
        "connected, so a voicemail answering the owner's phone counts as a missed call",
    )
    machine_detection: bool = Field(
        False,
        description="Answering-machine detection on the owner's leg: when the owner's voicemail "
        "picks up, the hub hangs up on it, the caller hears the missed-call message and the "
        "call counts as missed. Twilio bills it per call; with screening on, screening decides",
    )
    screening_prompt: str = Field(
        "Call for {business}. Press any key to take it.",
        min_length=1,
        description="What the owner hears on a screened call; {business} is the business's name",
    )
    screening_timeout: int = Field(
        5, ge=1, le=30, description="Seconds the owner has to press a key after the prompt"
    )
    voicemail: bool = Field(
        True, description="Let a caller whose call was missed (or came after hours) leave a message"
    )
    voicemail_max_length: int = Field(
        120, ge=5, le=3600, description="Longest voicemail, in seconds"
    )
    transcribe: bool = Field(
        False,
        description="Ask Twilio for a transcript of each voicemail (<Record transcribe>, "
        "billed per transcript; English only, recordings of at most 120 seconds): the hub "
        "reads it into the lead like a first reply",
    )
    missed_message: str | None = Field(
        None,
        description="What a caller hears when nobody took the call; {business} is the "
        "business's name. The default mentions the voicemail when there is one",
    )
    after_hours_message: str | None = Field(
        None,
        description="What a caller hears outside opening hours; {business} is the business's name",
    )
    voice: str | None = Field(None, description="Twilio <Say> voice, e.g. Polly.Joanna")
    language: str | None = Field(None, description="<Say> language, e.g. en-US")

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError(
                "is required: `forward` if the Twilio number is the number customers call (the "
                "hub rings forward_to), or `catch` if the business's phone forwards unanswered "
                "calls to the Twilio number"
            )
        return value

    @field_validator("screening", "machine_detection")
    @classmethod
    def _screening(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("mode") == "catch":
            raise ValueError(
                "only applies to mode: forward (in catch mode the hub never rings the owner)"
            )
        return value

    @model_validator(mode="after")
    def _transcribe(self) -> TwilioCallConfig:
        if self.transcribe and not self.voicemail:
            raise ValueError("transcribe needs voicemail: true (it transcribes the voicemail)")
        if self.transcribe and self.voicemail_max_length > TRANSCRIBE_MAX_LENGTH:
            raise ValueError(
                f"Twilio transcribes recordings of at most {TRANSCRIBE_MAX_LENGTH} seconds: "
                f"set voicemail_max_length to {TRANSCRIBE_MAX_LENGTH} or less"
            )
        return self

    def missed_text(self, business: str) -> str:
        default = (
            "Sorry, we can't take your call right now. Leave a message after the tone, or hang "
            "up and we'll get back to you shortly."
            if self.voicemail
            else "Sorry, we can't take your call right now. We'll get back to you shortly."
        )
        return (self.missed_message or default).replace("{business}", business)

    def after_hours_text(self, business: str) -> str:
        default = (
            "Thanks for calling {business}. We're closed right now. Leave a message after the "
            "tone, or hang up and we'll get back to you when we open."
            if self.voicemail
            else "Thanks for calling {business}. We're closed right now. We'll get back to you "
            "when we open."
        )
        return (self.after_hours_message or default).replace("{business}", business)


class TwilioSenderConfig(TwilioAccount):
    """``sms_sender: {use: twilio, ...}``."""

    from_: str | None = Field(
        None,
        alias="from",
        description="The Twilio number texts are sent from (E.164, like +15125550100)",
    )
    messaging_service_sid: str | None = Field(
        None,
        validate_default=True,
        description="A Messaging Service (MG…) to send through instead of one number",
    )
    timeout: float = Field(
        10.0, gt=0, le=60, description="Seconds to wait for Twilio's API before trying later"
    )
    line_type_check: bool = Field(
        False,
        description="Look the number up (Lookup v2 line type intelligence, billed per lookup) "
        "before the first text to it, and skip numbers that cannot take texts",
    )
    line_type_max_age_days: int = Field(
        90, ge=1, le=3650, description="Days a number's looked-up line type is trusted"
    )
    skip_line_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SKIP_LINE_TYPES),
        description="Line types never texted; the owner is told to call instead",
    )

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str | None) -> str | None:
        return None if value is None else to_e164(value)

    @field_validator("messaging_service_sid")
    @classmethod
    def _service(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _SERVICE_SID.match(value.strip()):
            raise ValueError("must be a Messaging Service SID: MG followed by 32 hex digits")
        if "from_" not in info.data:
            return value  # `from` itself was invalid and is reported on its own
        has_from = info.data["from_"] is not None
        if value is None and not has_from:
            raise ValueError(
                "is required unless `from` is set: send through a Messaging Service (MG…), or "
                "set `from` to the Twilio number texts come from (E.164, like +15125550100)"
            )
        if value is not None and has_from:
            raise ValueError("set `from` or `messaging_service_sid`, not both")
        return value.strip() if value is not None else None


#: The sender's settings under their first name.
TwilioSmsConfig = TwilioSenderConfig
