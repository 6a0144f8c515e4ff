"""Settings of the ``vonage`` call source and SMS sender.

Both take the account keys (``VonageAccount``: credentials and webhook signatures), so one
mapping (or one YAML anchor) of those can serve a business's calls and texts. The call source
adds how calls are handled (``VonageCallConfig``), the sender how texts go out
(``VonageSenderConfig``, which also checks that it can authenticate); a setting of one side is
an error on the other. The key names are a public contract: add keys, never rename them.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from hub import ProviderConfig
from hub_vonage.signatures import SignatureMethod

DEFAULT_API_HOST = "api.nexmo.com"
DEFAULT_REST_HOST = "rest.nexmo.com"

_NUMBER = re.compile(r"^[1-9]\d{6,14}$")
_SENDER_ID = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class VonageAccount(ProviderConfig):
    """The keys both the call source and the sender take."""

    # -- credentials ---------------------------------------------------------------------------
    api_key: str | None = Field(
        None, description="Account API key (dashboard → API settings); not a secret"
    )
    api_secret: SecretStr | None = Field(
        None, description="Account API secret: sends through the SMS API"
    )
    application_id: str | None = Field(
        None,
        description="Vonage application id: the Messages API (and Voice API) authenticate as it",
    )
    private_key: SecretStr | None = Field(
        None, description="The application's private key (PEM text; use {$file: private.key})"
    )
    signature_secret: SecretStr | None = Field(
        None,
        description="Signature secret (dashboard → API settings): verifies every webhook. "
        "Without it webhooks are accepted unsigned",
    )
    signature_method: SignatureMethod = Field(
        "md5hash",
        description="How SMS API webhooks are signed: md5hash (the dashboard's default "
        "'MD5 hash'), "
        "md5, sha1, sha256 or sha512 (HMAC). Voice and Messages webhooks always use a JWT",
    )
    signature_max_age: int = Field(
        300,
        ge=30,
        le=86400,
        description="Seconds a signed webhook stays acceptable (replay window)",
    )
    clock_skew: int = Field(60, ge=0, le=900, description="Seconds of clock difference tolerated")
    api_host: str = Field(
        DEFAULT_API_HOST,
        description="Host of the Messages/Voice APIs (voicemail transcripts are fetched only "
        "from it or Vonage's own api hosts); 'http://host:port' for a plain-HTTP stand-in",
    )

    @field_validator("api_host")
    @classmethod
    def _api_host(cls, value: str) -> str:
        return _origin(value)

    @field_validator("api_key", "application_id")
    @classmethod
    def _no_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave the key out instead)")
        return value.strip() if value is not None else None

    @field_validator("private_key")
    @classmethod
    def _pem(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Keys passed through environment variables often arrive with literal "\n"s.
        text = value.get_secret_value().replace("\\n", "\n").strip()
        if not (text.startswith("-----BEGIN") and "PRIVATE KEY-----" in text):
            raise ValueError(
                "must be the PEM text of the application's private key "
                "('-----BEGIN PRIVATE KEY-----...'); read it with {$file: private.key}"
            )
        return SecretStr(text + "\n")

    @model_validator(mode="after")
    def _pairs(self) -> VonageAccount:
        problems: list[tuple[str, str]] = []
        if (self.application_id is None) != (self.private_key is None):
            missing = "private_key" if self.private_key is None else "application_id"
            problems.append(
                (missing, "application_id and private_key go together: set both or neither")
            )
        if self.api_secret is not None and self.api_key is None:
            problems.append(("api_key", "api_secret needs its api_key"))
        _raise(problems)
        return self

    # -- derived -------------------------------------------------------------------------------

    @property
    def secret(self) -> str | None:
        return self.signature_secret.get_secret_value() if self.signature_secret else None


class VonageCallConfig(VonageAccount):
    """``call_source: {use: vonage, ...}``: the account keys and how calls are handled."""

    mode: Literal["forward", "catch"] = Field(
        "forward",
        description="forward: ring the business's forward_to during opening hours, text when "
        "nobody answers; catch: never ring, every call is missed (the number is a forwarding "
        "target)",
    )
    ring_timeout: int = Field(
        20, ge=5, le=120, description="Seconds to ring the owner before giving up"
    )
    screening: bool = Field(
        False,
        description="The owner hears 'press 1 to take the call'; a voicemail box cannot press 1, "
        "so "
        "a call it picks up counts as missed",
    )
    machine_detection: bool = Field(
        True,
        description="Without screening: an answering machine on the owner's phone counts as missed",
    )
    voicemail: bool = Field(True, description="Let a caller who missed the owner leave a message")
    voicemail_max_seconds: int = Field(120, ge=5, le=600)
    language: str = Field("en-US", description="Text-to-speech language of the prompts")
    greeting: str | None = Field(
        None, description="Said to a caller nobody could answer ({business} is the business's name)"
    )
    after_hours_greeting: str | None = Field(
        None, description="Said to a caller after hours ({business} is the business's name)"
    )
    screening_prompt: str | None = Field(None, description="Said to the owner when screening")
    transcribe: bool = Field(
        False,
        description="Ask Vonage to transcribe voicemails and read the transcript into the "
        "caller's lead (needs voicemail, application_id and private_key: the transcript is "
        "fetched as the application)",
    )
    transcription_language: str = Field(
        "en-US", description="Language of the voicemails Vonage transcribes (BCP-47, en-US)"
    )
    transcription_timeout: float = Field(
        10, gt=0, le=60, description="Seconds to wait for Vonage when fetching a transcript"
    )

    @field_validator("transcription_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value.strip()):
            raise ValueError("must be a language tag such as en-US or es-MX")
        return value.strip()

    @model_validator(mode="after")
    def _transcription(self) -> VonageCallConfig:
        if not self.transcribe:
            return self
        problems: list[tuple[str, str]] = []
        if not self.voicemail:
            problems.append(("transcribe", "transcribe needs voicemail: nothing to transcribe"))
        if self.application_id is None:
            why = (
                "transcribe fetches the transcript as the Vonage application: set application_id "
                "and private_key"
            )
            problems += [("application_id", why), ("private_key", why)]
        _raise(problems)
        return self


class VonageSenderConfig(VonageAccount):
    """``sms_sender: {use: vonage, ...}``: the account keys and how texts go out, checked that
    the chosen API can authenticate."""

    sign_requests: bool = Field(
        False,
        description="Sign outbound SMS API requests with signature_secret instead of sending "
        "api_secret (only when Vonage enforces signed requests on the account)",
    )

    # -- sending -------------------------------------------------------------------------------
    from_: str | None = Field(
        None,
        alias="from",
        description="Sender: a Vonage number (E.164, '+' optional) or an alphanumeric sender id. "
        "Default: the business number the customer called",
    )
    api: Literal["sms", "messages"] = Field(
        "sms", description="Which API sends texts: sms or messages"
    )
    rest_host: str = Field(
        DEFAULT_REST_HOST,
        description="Host of the SMS API; 'http://host:port' for a plain-HTTP stand-in",
    )
    timeout: int = Field(10, ge=1, le=60, description="Seconds to wait for Vonage's API")

    # -- multipart inbound texts -----------------------------------------------------------------
    concat_wait: int = Field(
        120,
        ge=1,
        le=86400,
        description="Seconds to wait for the missing parts of a multipart text before passing on "
        "what arrived",
    )

    @field_validator("from_")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s\-().]", "", value)
        digits = compact.removeprefix("+")
        if _NUMBER.match(digits):
            return digits
        if compact.startswith("+") or not _SENDER_ID.match(value.strip()):
            raise ValueError(
                "must be a phone number (E.164) or an alphanumeric sender id of at most 11 "
                "characters"
            )
        return value.strip()

    @field_validator("rest_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return _origin(value)

    @model_validator(mode="after")
    def _credentials(self) -> VonageSenderConfig:
        problems: list[tuple[str, str]] = []
        if self.sign_requests:
            if self.signature_secret is None:
                problems.append(("signature_secret", "sign_requests needs the signature secret"))
            if self.api_key is None:
                problems.append(("api_key", "sign_requests needs the api key"))
        _raise(problems)
        if self.api == "messages":
            if self.application_id is None and self.private_key is None:
                why = (
                    "the Messages API sends as a Vonage application: set application_id and "
                    "private_key (Vonage sends status webhooks only for application requests)"
                )
                problems += [("application_id", why), ("private_key", why)]
        else:
            if self.api_key is None:
                problems.append(("api_key", "the SMS API needs the account's api_key"))
            if self.api_secret is None and not self.sign_requests:
                problems.append(
                    (
                        "api_secret",
                        "the SMS API needs api_secret (or sign_requests with signature_secret)",
                    )
                )
        _raise(problems)
        return self


def _origin(value: str) -> str:
    """A host or an ``http(s)://host:port`` origin, without a trailing slash."""
    text = value.strip().rstrip("/")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path or parts.query:
            raise ValueError(
                "must be a host ('api.nexmo.com') or an origin ('http://127.0.0.1:8089')"
            )
        text = f"{parts.scheme}://{parts.netloc}"
        host = parts.netloc
    else:
        host = text
    if not _HOST.match(host):
        raise ValueError("must be a host ('api.nexmo.com') or an origin ('http://127.0.0.1:8089')")
    return text


def _raise(problems: list[tuple[str, str]]) -> None:
    """One error per setting at its own path, so ``hub check`` names each key."""
    if not problems:
        return
    errors = [
        InitErrorDetails(
            type=PydanticCustomError("vonage_setting", message), loc=(key,), input=None
        )
        for key, message in problems
    ]
    raise ValidationError.from_exception_data("VonageConfig", errors)


def split_origin(value: str) -> tuple[str, bool]:
    """``'http://127.0.0.1:8089'`` → ``('127.0.0.1:8089', True)``; ``'api.nexmo.com'`` →
    ``('api.nexmo.com', False)``: the SDK wants a bare host and always says ``https://``."""
    if value.startswith("http://"):
        return value[len("http://") :], True
    return value.removeprefix("https://"), False


def greeting(template: str, business_name: str) -> str:
    return template.replace("{business}", business_name)
