"""hub.yaml: reading it, and the typed models it becomes.

Loading goes: read the file → pull in ``include:`` files (an agency keeps one file per client)
→ resolve ``{$env: NAME}`` / ``{$file: path}`` secrets → lay each business over ``defaults`` →
validate the structure → validate each plugin selection against the installed plugin's own
config model. Every problem found on the way is collected with its path
(``businesses.acme.sinks[1].port: ...``) and raised together as one ``ConfigError``; no message
ever contains a secret's value.
"""

from __future__ import annotations

import copy
import difflib
import glob
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    IPvAnyNetwork,
    PrivateAttr,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.events import NOTIFICATIONS, EventKind, parse_kinds
from hub.hours import OpeningHours
from hub.phone import region_of, to_e164
from hub.providers import Kind, ProviderConfig
from hub.quiet import QuietHours

if TYPE_CHECKING:
    from hub.plugins import Plugins

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_DATABASE = "sqlite://hub.sqlite3"
ENV_CONFIG = "HUB_CONFIG"

E164 = Annotated[str, AfterValidator(to_e164)]
#: The languages the hub can text in (``templates/sms/<language>/`` beside English).
Language = Literal["en", "es"]


def _english() -> list[Language]:
    return ["en"]


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# -- errors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigIssue:
    path: str
    message: str
    file: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class ConfigError(Exception):
    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def format_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """``("businesses", "acme", "sinks", 1, "port")`` → ``businesses.acme.sinks[1].port``.
    A union's tag (``~plain``) is the model's, not part of what the user wrote: left out."""
    text = ""
    for part in loc:
        if isinstance(part, str) and part.startswith("~"):
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# -- models ---------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PluginSelection(_Strict):
    """``{use: NAME, ...that plugin's own settings}``."""

    use: str = Field(description="Name of the installed plugin provider to use")
    #: The raw settings, until the plugin's own model has validated them (then emptied: they
    #: may hold secrets, and ``config`` is the typed truth).
    options: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)
    _config: ProviderConfig | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"use": value}
        if isinstance(value, Mapping):
            data = dict(value)
            own = {key: data.pop(key) for key in list(data) if key in cls.model_fields}
            own.pop("options", None)
            own["options"] = data
            return own
        return value

    def __repr_args__(self) -> Any:
        yield "use", self.use
        yield "config", self._config

    @property
    def config(self) -> ProviderConfig:
        if self._config is None:
            raise RuntimeError(f"plugin selection {self.use!r} was not validated")
        return self._config


class SenderSelection(PluginSelection):
    fallbacks: list[PluginSelection] = Field(
        default_factory=list, description="Senders to try, in order, when this one cannot send"
    )


class SinkSelection(PluginSelection):
    on: list[str] | None = Field(
        default=None,
        description="The events this sink gets (default: the ones the sink asks for);"
        " e.g. [lead.created, lead.status_changed]",
    )

    @field_validator("on")
    @classmethod
    def _known_events(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            parse_kinds(value)
        return value

    def events(
        self, default: frozenset[EventKind], accepts: frozenset[EventKind]
    ) -> frozenset[EventKind]:
        """What this selection hears: ``on`` (of what its sink ``accepts``), else its sink
        class's ``default``."""
        return default if self.on is None else parse_kinds(self.on) & accepts


class Owner(_Strict):
    name: str | None = None
    phone: E164 | None = Field(None, description="Gets urgent alerts by SMS")
    email: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("is not an email address")
        return value


class TextBack(_Strict):
    delay: float = Field(
        0.0, ge=0, le=86400, description="Seconds to wait after a missed call before texting"
    )
    cooldown: float = Field(
        86400.0, ge=0, description="Seconds after a text-back before the same caller gets another"
    )
    daily_cap: int = Field(
        500, ge=0, description="Most text-backs per business per local day (0: no cap)"
    )


class QuietHoursSettings(_Strict):
    enabled: bool = Field(
        True, description="Hold texts outside the window (turn off only for demos)"
    )
    window: str | dict[str, str | list[str] | None] = Field(
        "08:00-21:00", description="When texts may reach people, in their local time"
    )
    states: dict[str, str | dict[str, str | list[str] | None]] = Field(
        default_factory=dict, description="Stricter windows by US state (FL, TX... built in)"
    )
    outside: Literal["hold", "skip"] = Field(
        "hold", description="A text due in quiet hours waits for the window, or is not sent"
    )

    @field_validator("window", "states")
    @classmethod
    def _windows(cls, value: Any) -> Any:
        specs = value.values() if isinstance(value, dict) and not _is_hours(value) else [value]
        for spec in specs:
            OpeningHours.parse(_as_hours(spec))
        return value

    def quiet_hours(self) -> QuietHours:
        return QuietHours(
            _as_hours(self.window), {code: _as_hours(spec) for code, spec in self.states.items()}
        )


class FollowUps(_Strict):
    ask_missing: bool = Field(True, description="Ask once for a missing service or ZIP code")
    nudge_after_hours: float = Field(
        2.0, ge=0, description="Nudge a customer who has not replied (0: never)"
    )
    remind_owner_after_hours: float = Field(
        1.0, ge=0, description="Business hours a lead may stay `new` before the owner is reminded"
    )
    summary_wait_minutes: float = Field(
        30.0, ge=0, description="How long to wait for the answer to a follow-up question"
    )


class NumberEntry(_Strict):
    """A business number with the campaign or place it stands for: a tracking number tells
    which ad or location was called (``{number: "+1...", source: "Google Ads"}``)."""

    number: E164 = Field(description="The number customers call (E.164)")
    source: str = Field(
        min_length=1, max_length=64, description="Where callers found it: an ad, a listing, a van"
    )


def _number_kind(value: Any) -> str:
    return "~labelled" if isinstance(value, Mapping | NumberEntry) else "~plain"


#: One of ``numbers``: a plain E.164 string, or a mapping with its source.
NumberItem = Annotated[
    Annotated[E164, Tag("~plain")] | Annotated[NumberEntry, Tag("~labelled")],
    Discriminator(_number_kind),
]


_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


class FormSettings(_Strict):
    """The business's web form (``POST /forms/{business}``); without this section it has
    none."""

    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Sites whose pages may post the form, as origins (https://www.acme.com);"
        " a post naming another origin is refused",
    )
    per_ip_per_hour: int = Field(
        10, ge=1, le=10_000, description="Most submissions one address may make in an hour"
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            origin = origin.strip().rstrip("/").lower()
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin like https://www.example.com (no path)"
                )
            origins.append(origin)
        return origins


def _is_hours(value: dict[str, Any]) -> bool:
    try:
        OpeningHours.parse(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _as_hours(spec: Any) -> dict[str, Any]:
    return {"mon-sun": spec} if isinstance(spec, str) else dict(spec)


class Business(_Strict):
    slug: str = Field(description="Set from the key under `businesses:`")
    name: str = Field(min_length=1, max_length=120)
    timezone: str = Field(description="IANA timezone, e.g. America/Chicago")
    if TYPE_CHECKING:
        #: After validation always plain E.164 strings; their sources are in ``sources``.
        numbers: list[str]
    else:
        numbers: list[NumberItem] = Field(
            min_length=1,
            description="The numbers customers call (E.164), each a string or"
            " {number, source} to tell which campaign or location a call came through",
        )
    hours: dict[str, str | list[str] | None] = Field(
        default_factory=dict,
        description=(
            "Opening windows per weekday; an absent day is closed. A business's hours replace "
            "the defaults' hours whole (they do not merge day by day)"
        ),
    )
    holidays: list[date] = Field(default_factory=list)
    forward_to: E164 | None = Field(None, description="Where a call source rings the owner")
    owner: Owner = Field(default_factory=Owner)
    call_source: PluginSelection
    sms_sender: SenderSelection
    reply_parsers: list[PluginSelection] = Field(
        default_factory=list, description="Parsers run in order on each reply (default: rules)"
    )
    sinks: list[SinkSelection] = Field(default_factory=list)
    text_back: TextBack = Field(default_factory=TextBack)
    quiet_hours: QuietHoursSettings = Field(default_factory=QuietHoursSettings)
    follow_ups: FollowUps = Field(default_factory=FollowUps)
    templates: dict[str, str] = Field(
        default_factory=dict, description="Template overrides by name, as Jinja2 source"
    )
    languages: list[Language] = Field(
        default_factory=_english,
        min_length=1,
        description=(
            "Languages the business texts customers in (en, es): the first until a caller "
            "writes in another, then theirs (templates/sms/es/ for Spanish)"
        ),
    )
    if TYPE_CHECKING:
        #: After validation every language's words in one list, for the parsers.
        services: dict[str, list[str]]
    else:
        services: dict[str, list[str] | dict[Language, list[str]]] = Field(
            default_factory=dict,
            description=(
                "Service catalog: name → synonyms, or name → {en: [...], es: [...]} with "
                "each language's words"
            ),
        )
    forms: FormSettings | None = Field(
        None, description="The business's web form (POST /forms/{business}); none without it"
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _split_sources(self) -> Business:
        """Plain strings in ``numbers`` everywhere the hub compares or sends from a number;
        the labels aside, in ``sources``."""
        items: list[Any] = list(self.numbers)
        self._sources = {
            item.number: item.source for item in items if isinstance(item, NumberEntry)
        }
        self.numbers = [item.number if isinstance(item, NumberEntry) else item for item in items]
        return self

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("services", mode="after")
    @classmethod
    def _service_words(cls, value: dict[str, Any]) -> dict[str, list[str]]:
        """Words given per language are one list: a caller may use either language's word
        ("el water heater"), so the parsers read them all."""
        return {
            name: [word for group in words.values() for word in group]
            if isinstance(words, dict)
            else words
            for name, words in value.items()
        }

    @property
    def sources(self) -> Mapping[str, str]:
        """Each labelled number's source (``{"+15125550101": "Google Ads"}``)."""
        return self._sources

    def source_of(self, number: str | None) -> str | None:
        """The source of one of the business's numbers, if it has one."""
        return self._sources.get(number) if number else None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown timezone {value!r}{hint}") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, Any]) -> dict[str, Any]:
        OpeningHours.parse(value)
        return value

    @cached_property
    def quiet(self) -> QuietHours:
        return self.quiet_hours.quiet_hours()

    @cached_property
    def opening_hours(self) -> OpeningHours:
        return OpeningHours.parse(self.hours, self.holidays)

    def is_open(self, moment: datetime) -> bool:
        return self.opening_hours.is_open(moment, self.timezone)

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))

    @cached_property
    def region(self) -> str | None:
        """The country of the business's first number, for reading national caller ids."""
        return region_of(self.numbers[0])

    def sender_names(self) -> list[str]:
        """The SMS senders this business sends through: its sender, then its fallbacks."""
        return [self.sms_sender.use, *(fallback.use for fallback in self.sms_sender.fallbacks)]

    def selections(self) -> Iterator[tuple[str, Kind, PluginSelection]]:
        """Every plugin selection with its path under the business and its kind."""
        yield "call_source", Kind.CALL_SOURCE, self.call_source
        yield "sms_sender", Kind.SMS_SENDER, self.sms_sender
        for index, fallback in enumerate(self.sms_sender.fallbacks):
            yield f"sms_sender.fallbacks[{index}]", Kind.SMS_SENDER, fallback
        for index, parser in enumerate(self.reply_parsers):
            yield f"reply_parsers[{index}]", Kind.REPLY_PARSER, parser
        for index, sink in enumerate(self.sinks):
            yield f"sinks[{index}]", Kind.SINK, sink


class WorkerSettings(_Strict):
    in_process: bool = Field(True, description="Run a worker inside `hub serve`")
    concurrency: int = Field(8, ge=1, le=256, description="Jobs (texts...) run at once")
    delivery_concurrency: int = Field(
        32,
        ge=1,
        le=1024,
        description="Deliveries to sinks run at once, apart from the other jobs: a slow or "
        "failing service never holds up a text",
    )
    poll_interval: float = Field(1.0, gt=0, le=60)
    lease: float = Field(60.0, ge=1, description="Seconds a job is held before it is rescued")
    keep_finished_days: int = Field(
        14,
        ge=1,
        le=3650,
        description="Days finished jobs (completed, failed, cancelled) are kept for operators "
        "(`hub jobs list`) before the worker deletes them",
    )


def own_numbers(businesses: Iterable[Business]) -> frozenset[str]:
    """Every number these businesses use themselves: their numbers, forward_to and owner's
    phone. No business texts one of them as a customer."""
    return frozenset(
        number
        for business in businesses
        for number in (*business.numbers, business.forward_to, business.owner.phone)
        if number
    )


def _loopback() -> list[IPv4Network | IPv6Network]:
    return [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]


class MetricsSettings(_Strict):
    """Who may read ``/metrics``: a client whose address is in ``allow``, or one that sends
    ``Authorization: Bearer TOKEN``. Loopback only by default: a Prometheus on this machine
    (or one reaching it through a tunnel). Behind a reverse proxy on this machine, the proxy
    must send ``X-Forwarded-For`` (uvicorn trusts it from 127.0.0.1), or every client looks
    local: better not to proxy ``/metrics`` at all."""

    enabled: bool = Field(True, description="Serve /metrics (Prometheus text format)")
    allow: list[IPvAnyNetwork] = Field(
        default_factory=_loopback,
        max_length=256,
        description="Networks (CIDRs) that may read /metrics without a token",
    )
    token: SecretStr | None = Field(
        None,
        min_length=16,
        max_length=256,
        description="A bearer token that may read /metrics from anywhere; {$env: NAME}",
    )


class ApiSettings(_Strict):
    requests_per_minute: int = Field(
        120, ge=1, le=100_000, description="Most API requests one token may make in a minute"
    )


class HubConfig(_Strict):
    database: str = Field(
        DEFAULT_DATABASE,
        description="sqlite://FILE (relative to hub.yaml) or postgres://user:pass@host/db",
    )
    public_url: str = Field(
        DEFAULT_PUBLIC_URL,
        description="Base URL providers reach; used for callbacks and signatures",
    )
    templates: str | None = Field(
        None, description="Directory of templates overriding the defaults"
    )
    secret_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="Signs dashboard sessions; {$env: NAME} or {$file: path}, 16+ characters."
        " Without one the dashboard signs with a key that dies with the process",
    )
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    include: list[str] = Field(default_factory=list, description="More files with `businesses:`")
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Settings every business inherits"
    )
    businesses: dict[str, Business] = Field(default_factory=dict)

    _path: Path | None = PrivateAttr(default=None)
    _warnings: list[ConfigIssue] = PrivateAttr(default_factory=list)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be an http(s) URL like https://hub.example.com")
        return value.rstrip("/")

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path else Path.cwd()

    @property
    def warnings(self) -> list[ConfigIssue]:
        """What loading found risky but allowed (an inline secret), one line each."""
        return self._warnings

    def own_numbers(self) -> frozenset[str]:
        """Every number the hub itself uses (see ``own_numbers``)."""
        return own_numbers(self.businesses.values())

    def business(self, slug: str) -> Business:
        try:
            return self.businesses[slug]
        except KeyError:
            known = ", ".join(sorted(self.businesses)) or "none"
            raise LookupError(f"no business {slug!r} in the config (known: {known})") from None


# -- loading --------------------------------------------------------------------------------------


#: The example hub.yaml's session key: ``hub check`` warns while it is in use.
DEMO_SECRET_KEY = "demo-secret-key-change-me"  # noqa: S105 - a known, warned-about demo value


def default_config_path() -> Path:
    return Path(os.environ.get(ENV_CONFIG) or "hub.yaml")


def load_config(path: Path | str, plugins: Plugins | None = None) -> HubConfig:
    """Read, validate and return ``path``; ``plugins`` validates the plugin selections."""
    return _Loader(Path(path), plugins).load()


class _Loader:
    def __init__(self, path: Path, plugins: Plugins | None) -> None:
        self.path = path
        self.plugins = plugins
        self.issues: list[ConfigIssue] = []
        self.secrets: set[str] = set()
        self.sources: dict[str, str] = {}  # business slug -> file it came from
        # Where a secret could not be read: already reported, so its empty value is not again.
        self.unread: set[str] = set()
        self.warnings: list[ConfigIssue] = []

    def issue(self, path: str, message: str, file: str | None = None) -> None:
        if path in self.unread or any(
            path.endswith(f".{unread.removeprefix('defaults.')}")
            and unread.startswith("defaults.")
            and path.startswith("businesses.")
            for unread in self.unread
        ):
            return  # the secret it needs is reported where it is written
        for secret in self.secrets:
            message = message.replace(secret, "***")
        self.issues.append(ConfigIssue(path, message, file))

    def load(self) -> HubConfig:
        raw = self._read(self.path)
        if raw is None:
            raise ConfigError(self.issues)
        businesses = raw.get("businesses") or {}
        if not isinstance(businesses, dict):
            self.issue("businesses", "must be a mapping of business slug to settings")
            businesses = {}
        businesses = dict(businesses)
        self._include(raw.get("include") or [], businesses)
        if not businesses and not self.issues:
            self.issue("businesses", f"{self.path} has no businesses: add one under `businesses:`")
        raw = self._resolve({key: value for key, value in raw.items() if key != "businesses"}, ())
        businesses = self._resolve(businesses, ("businesses",))
        defaults = raw.get("defaults") or {}
        if not isinstance(defaults, dict):
            self.issue("defaults", "must be a mapping of business settings")
            defaults = {}

        top = {key: value for key, value in raw.items() if key != "businesses"}
        config = self._validate_top(top)
        parsed: dict[str, Business] = {}
        owners: dict[str, str] = {}
        for slug, body in businesses.items():
            business = self._business(str(slug), body, defaults)
            if business is None:
                continue
            parsed[business.slug] = business
            for number in business.numbers:
                if number in owners:
                    self.issue(
                        f"businesses.{slug}.numbers",
                        f"{number} is also a number of business {owners[number]!r}",
                        self.sources.get(str(slug)),
                    )
                owners[number] = business.slug
        if self.issues or config is None:
            raise ConfigError(self.issues)
        config.businesses = parsed
        self._warn_secret_key(config, raw.get("secret_key"))
        config._warnings = self.warnings
        config._path = self.path.resolve()
        return config

    def _warn_secret_key(self, config: HubConfig, value: Any) -> None:
        key = config.secret_key.get_secret_value() if config.secret_key else None
        if key == DEMO_SECRET_KEY:
            self.warnings.append(
                ConfigIssue(
                    "secret_key",
                    "is the example's demo value: anyone can sign dashboard sessions with it;"
                    " set HUB_SECRET_KEY (e.g. `python3 -c 'import secrets;"
                    " print(secrets.token_urlsafe(32))'`)",
                )
            )
        elif key is not None and key not in self.secrets:
            self.warnings.append(
                ConfigIssue(
                    "secret_key", "a secret written inline; use {$env: NAME} or {$file: path}"
                )
            )

    def _read(self, path: Path) -> dict[str, Any] | None:
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.issue("", f"config file {where} not found (pass --config or set ${ENV_CONFIG})")
            return None
        except OSError as exc:
            self.issue("", f"cannot read {where}: {exc.strerror}")
            return None
        try:
            data = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            self.issue("", f"{where}: {problem}{line}")
            return None
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.issue("", f"{where}: the top level must be a mapping")
            return None
        return data

    def _include(self, patterns: Any, businesses: dict[str, Any]) -> None:
        if not isinstance(patterns, list):
            patterns = [patterns]
        for index, pattern in enumerate(patterns):
            if not isinstance(pattern, str):
                self.issue(f"include[{index}]", "must be a file path or glob pattern")
                continue
            full = pattern if os.path.isabs(pattern) else str(self.path.parent / pattern)
            matches = sorted(glob.glob(full))
            if not matches:
                self.issue(f"include[{index}]", f"no file matches {pattern!r}")
            for match in matches:
                data = self._read(Path(match))
                if data is None:
                    continue
                relative = os.path.relpath(match, self.path.parent)
                extra = set(data) - {"businesses"}
                if extra:
                    self.issue(
                        "",
                        "only `businesses:` may appear in an included file, "
                        f"not {', '.join(sorted(extra))}",
                        relative,
                    )
                for slug, body in (data.get("businesses") or {}).items():
                    if slug in businesses:
                        other = self.sources.get(str(slug), self.path.name)
                        self.issue(
                            f"businesses.{slug}", f"is defined more than once (also in {other})",
                            relative,
                        )  # fmt: skip
                        continue
                    businesses[slug] = body
                    self.sources[str(slug)] = relative

    def _resolve(self, value: Any, path: tuple[int | str, ...]) -> Any:
        """Replace ``{$env: NAME}`` and ``{$file: path}`` with what they point at."""
        if isinstance(value, dict):
            if "$env" in value or "$file" in value:
                return self._secret(value, path)
            return {key: self._resolve(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolve(item, (*path, index)) for index, item in enumerate(value)]
        return value

    def _secret(self, ref: dict[str, Any], path: tuple[int | str, ...]) -> Any:
        where = format_path(path)
        extra = set(ref) - {"$env", "$file", "default"}
        if extra or ("$env" in ref) == ("$file" in ref):
            self.issue(
                where, "a secret is written {$env: NAME} or {$file: path} (optionally with default)"
            )
            return None
        if "$env" in ref:
            name = str(ref["$env"])
            value = os.environ.get(name)
            if value is None:
                if "default" not in ref:
                    self.issue(where, f"environment variable {name} is not set")
                    self.unread.add(where)
                    return None
                value = str(ref["default"])
        else:
            file = Path(str(ref["$file"])).expanduser()
            if not file.is_absolute():
                file = self.path.parent / file
            try:
                value = file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                self.issue(where, f"cannot read secret file {file}: {exc.strerror}")
                self.unread.add(where)
                return None
        if value:
            self.secrets.add(value)
        return value

    def _validate_top(self, top: dict[str, Any]) -> HubConfig | None:
        try:
            return HubConfig.model_validate(top)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                self.issue(format_path(error["loc"]), _message(error))
            return None

    def _business(self, slug: str, body: Any, defaults: dict[str, Any]) -> Business | None:
        file = self.sources.get(slug)
        prefix = f"businesses.{slug}"
        if not _SLUG.match(slug):
            self.issue(prefix, "a business slug is lowercase letters, digits, - and _", file)
            return None
        if not isinstance(body, dict):
            self.issue(prefix, "must be a mapping of settings", file)
            return None
        data = _overlay(defaults, body)
        for key in REPLACED_WHOLE:
            if key in body:  # a schedule is read as a whole: Monday must not leak in from defaults
                data[key] = copy.deepcopy(body[key])
        data["slug"] = slug
        data.setdefault("reply_parsers", [{"use": "rules"}])  # the default reader of replies
        configs = self._plugin_configs(prefix, data, file)
        try:
            business = Business.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if _is_plugin_option_error(error["loc"]):
                    continue  # reported with the plugin's own model below
                known = Business.model_fields if len(error["loc"]) == 1 else ()
                self.issue(f"{prefix}.{format_path(error['loc'])}", _message(error, known), file)
            return None
        if configs is None:
            return None
        for path, _, selection in business.selections():
            selection._config = configs.get(path)
            selection.options = {}
        return business

    def _plugin_configs(
        self, prefix: str, data: dict[str, Any], file: str | None
    ) -> dict[str, ProviderConfig] | None:
        """Validate each selection's settings against its plugin's config model."""
        if self.plugins is None:
            return {}
        found: dict[str, ProviderConfig] = {}
        ok = True
        for path, kind, raw in _raw_selections(data):
            if isinstance(raw, str):
                raw = {"use": raw}
            if not isinstance(raw, dict) or not isinstance(raw.get("use"), str):
                ok = False  # the structural check reports it
                continue
            options = {key: value for key, value in raw.items() if key not in _SELECTION_KEYS[kind]}
            try:
                cls = self.plugins.provider(kind, raw["use"])
            except LookupError as exc:
                self.issue(f"{prefix}.{path}.use", str(exc), file)
                ok = False
                continue
            if kind == Kind.SINK and not self._offers(cls, raw, f"{prefix}.{path}.on", file):
                ok = False
            try:
                found[path] = cls.Config.model_validate(options)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    known = cls.Config.model_fields if len(error["loc"]) == 1 else ()
                    self.issue(
                        f"{prefix}.{path}.{format_path(error['loc'])}",
                        _message(error, known),
                        file,
                    )
                ok = False
                continue
            for key, value in options.items():
                field = cls.Config.model_fields.get(key)
                if (
                    field is not None
                    and "SecretStr" in str(field.annotation)
                    and isinstance(value, str)
                    and value not in self.secrets
                ):
                    self.warnings.append(
                        ConfigIssue(
                            f"{prefix}.{path}.{key}",
                            "a secret written inline; use {$env: NAME} or {$file: path}",
                            file,
                        )
                    )
        return found if ok else None

    def _offers(self, cls: type[Any], raw: dict[Any, Any], path: str, file: str | None) -> bool:
        """A sink's ``on`` names only events its class sends."""
        wanted = raw.get("on")
        if not isinstance(wanted, list):
            return True  # absent, or the structural check reports it
        offered: frozenset[EventKind] = getattr(cls, "accepts", NOTIFICATIONS)
        try:
            extra = sorted(parse_kinds(wanted) - offered)
        except ValueError:
            return True  # the selection's own model reports unknown names
        if extra:
            self.issue(
                path,
                f"sink {raw['use']!r} does not take {', '.join(extra)};"
                f" it takes {', '.join(sorted(offered))}",
                file,
            )
            return False
        return True


#: Keys of a selection that are the hub's, not the plugin's settings.
_SELECTION_KEYS: dict[Kind, set[Any]] = {
    Kind.CALL_SOURCE: {"use"},
    Kind.SMS_SENDER: {"use", "fallbacks"},
    Kind.REPLY_PARSER: {"use"},
    Kind.SINK: {"use", "on"},
}


# libyaml's parser when PyYAML was built with it: an agency's hub.yaml of thousands of
# businesses reads about ten times faster than with the pure-Python one.
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_SafeLoader):
    """YAML's safe loader, except that keys are names: YAML 1.1 reads a sink's ``on:`` (and
    ``yes:``, ``off:``...) as a boolean."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag == "tag:yaml.org,2002:bool":
                key.tag = "tag:yaml.org,2002:str"
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def _raw_selections(data: dict[str, Any]) -> Iterator[tuple[str, Kind, Any]]:
    if "call_source" in data:
        yield "call_source", Kind.CALL_SOURCE, data["call_source"]
    sender = data.get("sms_sender")
    if sender is not None:
        yield "sms_sender", Kind.SMS_SENDER, sender
        if isinstance(sender, dict) and isinstance(sender.get("fallbacks"), list):
            for index, fallback in enumerate(sender["fallbacks"]):
                yield f"sms_sender.fallbacks[{index}]", Kind.SMS_SENDER, fallback
    for key, kind in (("reply_parsers", Kind.REPLY_PARSER), ("sinks", Kind.SINK)):
        if isinstance(data.get(key), list):
            for index, item in enumerate(data[key]):
                yield f"{key}[{index}]", kind, item


def _is_plugin_option_error(loc: tuple[int | str, ...]) -> bool:
    return "options" in loc


def _message(error: Mapping[str, Any], known: Iterable[str] = ()) -> str:
    """One line for a validation error; the value itself is never shown (it may be a secret)."""
    message = str(error.get("msg", "invalid"))
    kind, context = error.get("type"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        loc = error.get("loc") or ("",)
        close = difflib.get_close_matches(str(loc[-1]), sorted(known), n=1, cutoff=0.8)
        return "unknown setting" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind == "too_short" and context.get("field_type") == "Value":
        return f"must be at least {context.get('min_length')} characters long"
    if kind == "string_type" and isinstance(error.get("input"), int | float):
        return 'a number where text belongs: put it in quotes ("+15125550199", not 5125550199)'
    if error.get("type") == "missing":
        return "required setting is missing"
    return message.removeprefix("Value error, ")


#: Business settings that, when a business gives them, replace the defaults' value whole rather
#: than merging key by key with it.
REPLACED_WHOLE = ("hours",)


def _overlay(base: Any, top: Any) -> Any:
    """``top`` laid over ``base``: mappings merge key by key, anything else is replaced. A plugin
    selection that switches plugins (a different ``use``) replaces the inherited one whole."""
    if not isinstance(base, dict) or not isinstance(top, dict):
        return copy.deepcopy(top)
    if "use" in base and "use" in top and base["use"] != top["use"]:
        return copy.deepcopy(top)
    merged = copy.deepcopy(base)
    for key, value in top.items():
        merged[key] = _overlay(merged[key], value) if key in merged else copy.deepcopy(value)
    return merged
