"""The ``hub`` command. Every subcommand takes ``--config PATH`` (default ``$HUB_CONFIG`` or
``./hub.yaml``). Errors are one clear line each, never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# Everything heavier than click (Tortoise, pydantic, Starlette, httpx, the plugins) is imported
# by the commands that use it, so `hub --help` and a typo answer at once.
if TYPE_CHECKING:
    from hub.assembly import BusinessProviders
    from hub.config import HubConfig
    from hub.plugins import Plugins
    from hub.runtime import Hub
    from hub.views import LeadView

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
P = TypeVar("P")


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="hub.yaml to use (default: $HUB_CONFIG or ./hub.yaml)",
    )(func)


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _plugins() -> Plugins:
    from hub.plugins import PluginError, load_plugins

    try:
        plugins = load_plugins()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    for info in plugins.failed:
        click.secho(
            f"warning: plugin {info.name!r} failed to load: {info.error}", fg="yellow", err=True
        )
    return plugins


def _config(path: Path | None, plugins: Plugins) -> HubConfig:
    from hub.config import ConfigError, default_config_path, load_config

    try:
        return load_config(path or default_config_path(), plugins)
    except ConfigError as exc:
        for issue in exc.issues:
            click.secho(f"error: {issue}", fg="red", err=True)
        raise click.exceptions.Exit(2) from None


def _warn_config(config: HubConfig) -> None:
    for warning in config.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def _check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on, before anything starts."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is in use (another hub?); choose another with --port"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _hub(path: Path | None) -> Hub:
    from hub.runtime import Hub

    plugins = _plugins()
    return Hub(_config(path, plugins), plugins)


def _run(coro: Awaitable[T]) -> T:
    from hub.store.db import DatabaseError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (click.ClickException, click.exceptions.Exit):
        raise
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        logging.getLogger("hub").debug("command failed", exc_info=True)
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


async def _with_db(
    hub: Hub, action: Callable[[], Awaitable[T]], *, migrate: bool | None = None
) -> T:
    await hub.start(worker=False, migrate=migrate)
    try:
        return await action()
    finally:
        await hub.stop()


class HubGroup(click.Group):
    """The ``hub`` group: a name none of its own commands has is looked up among the plugins'
    commands (``hub_register_commands``), so plugins load only when one is asked for."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        return plugin_commands(_plugins()).get(cmd_name)


def plugin_commands(plugins: Plugins) -> dict[str, click.Command]:
    """The commands the plugins register, by name; one that takes a name of the hub's own
    commands (or of an earlier plugin's) is left out with a warning."""
    commands: dict[str, click.Command] = {}

    def register(command: click.Command) -> None:
        name = command.name or ""
        if not isinstance(command, click.Command) or not name:
            click.secho(f"warning: a plugin registered {command!r}, not a command", err=True)
        elif name in main.commands or name in commands:
            click.secho(f"warning: a plugin's command `hub {name}` is already taken", err=True)
        else:
            commands[name] = command

    try:
        plugins.pm.hook.hub_register_commands(register=register)
    except Exception as exc:  # one broken plugin must not take the hub's commands down
        click.secho(f"warning: a plugin failed to register commands: {exc}", fg="yellow", err=True)
    return commands


def configured_providers(
    business: str, cls: type[P], *, config_path: Path | None = None
) -> list[P]:
    """For a plugin's command: the instances of ``cls`` that ``business`` selects in hub.yaml
    (``config_path``, default ``$HUB_CONFIG`` or ``./hub.yaml``), built with their validated
    config and context but not started (no database, no clients). A config error is printed
    and exits 2, as in every command; an unknown business is a one-line error."""
    hub = _hub(config_path)
    providers = hub.providers.get(business)
    if providers is None:
        known = ", ".join(sorted(hub.providers)) or "none"
        raise click.ClickException(f"no business {business!r} in hub.yaml (known: {known})")
    return [provider for provider in providers.all() if isinstance(provider, cls)]


@click.group(cls=HubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hub-core")
def main() -> None:
    """Missed-call text-back hub.

    Texts back the callers a business misses, keeps their replies in one conversation, and
    tells the owner. Start with `hub check`, then `hub serve`; `hub simulate` plays the
    customer. Every command takes --config (default: $HUB_CONFIG or ./hub.yaml).

    Exit codes: 0 done; 1 a one-line error (a port in use, an unreachable hub or database, no
    such lead or business); 2 a usage or configuration error.

    Plugins may add commands of their own (`hub jobber ...`): `hub plugins` lists them.
    """


# -- serving --------------------------------------------------------------------------------------


_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0", "::"}  # noqa: S104


def listen_mismatch(public_url: str, host: str, port: int) -> str | None:
    """Why ``public_url`` is not where ``hub serve --host HOST --port PORT`` listens, or ``None``.

    Only a ``public_url`` on this machine is compared: behind a proxy it names another host and
    port on purpose."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    public_host = (parts.hostname or "").lower()
    if public_host not in _LOCAL_HOSTS | {host.lower()}:
        return None
    try:
        public_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if public_port == port:
        return None
    return (
        f"listening on port {port} but public_url is {public_url}: "
        f"callbacks and `hub simulate` go there (set public_url, or use `hub simulate --url`)"
    )


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on")
@click.option("--no-worker", is_flag=True, help="Only answer webhooks; run `hub worker` elsewhere")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail")
def serve(config_path: Path | None, host: str, port: int, no_worker: bool, verbose: bool) -> None:
    """Answer webhooks, and run jobs unless --no-worker.

    Listens on --host/--port; public_url in hub.yaml must reach it from outside, since providers
    post there. Migrates an SQLite database on start.
    """
    _check_port(host, port)
    import uvicorn

    from hub.web import create_app

    _setup_logging(verbose)
    hub = _hub(config_path)
    _warn_config(hub.config)
    if no_worker:
        hub.config.worker.in_process = False
    click.echo(f"hub: {len(hub.config.businesses)} business(es), database {hub.db.redacted_url()}")
    click.echo(f"hub: serving on http://{host}:{port} (public URL {hub.config.public_url})")
    mismatch = listen_mismatch(hub.config.public_url, host, port)
    if mismatch:
        click.secho(f"warning: {mismatch}", fg="yellow", err=True)
    uvicorn.run(
        create_app(hub), host=host, port=port, log_config=None, access_log=False, lifespan="on"
    )


@main.command()
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail")
def worker(config_path: Path | None, verbose: bool) -> None:
    """Run jobs only, beside `hub serve --no-worker`.

    Scale-out: run several, on several machines, against one PostgreSQL database.
    """
    _setup_logging(verbose)
    hub = _hub(config_path)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await hub.start(worker=True)
        click.echo(f"hub worker {hub.worker.id if hub.worker else '?'}: running; Ctrl-C stops")
        try:
            await stop.wait()
        finally:
            await hub.stop()

    _run(run())


@main.command()
@config_option
def migrate(config_path: Path | None) -> None:
    """Create or upgrade the database's tables.

    Safe to run from several processes at once: one migrates, the others wait.
    """
    hub = _hub(config_path)

    async def run() -> list[str]:
        await hub.db.connect()
        try:
            return await hub.db.migrate(progress=click.echo)
        finally:
            await hub.db.close()

    applied = _run(run())
    click.echo(
        f"{len(applied)} migration(s) applied; database {hub.db.redacted_url()} is up to date"
    )


# -- configuration --------------------------------------------------------------------------------


@main.command()
@config_option
def check(config_path: Path | None) -> None:
    """Check hub.yaml, its plugins' settings and its templates.

    Prints every problem, one line each with where it is, and warnings (an inline secret, a
    webhook endpoint a sink disabled); exits 2 when there is a problem. Nothing is started, and
    the database is only read, if it exists, for what plugins recorded.
    """
    from hub.assembly import offline_providers
    from hub.templating import Templates, check_templates

    plugins = _plugins()
    config = _config(config_path, plugins)
    _warn_config(config)
    templates = Templates(config)
    offline = offline_providers(config, plugins)
    problems = [
        f"businesses.{slug}.{path}: {problem}"
        for slug, providers in offline.items()
        for path, _, selection in config.businesses[slug].selections()
        for provider in providers.all()
        if provider.config is selection.config
        for problem in provider.problems()
    ]
    warnings: list[str] = [] if problems else _state_warnings(config, plugins, offline)
    for slug, business in config.businesses.items():
        for issue in check_templates(templates, business):
            line = f"{issue.where}: {issue.message}" + (
                "" if issue.where.startswith("businesses.") else f" (business {slug})"
            )
            (warnings if issue.warning else problems).append(line)
    for problem in problems:
        click.secho(f"error: {problem}", fg="red", err=True)
    for warning in dict.fromkeys(warnings):
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if problems:
        raise click.exceptions.Exit(2)
    businesses = len(config.businesses)
    click.echo(f"{config.path}: OK ({businesses} business{'es' if businesses != 1 else ''})")


def _state_warnings(
    config: HubConfig, plugins: Plugins, offline: dict[str, BusinessProviders]
) -> list[str]:
    """Each provider's ``warnings()``, read from the database if it exists already (``hub
    check`` must not create or migrate one); nothing when it cannot be read. Only a config
    with such a provider pays for starting a hub."""
    from hub.providers import Provider
    from hub.runtime import Hub

    if all(type(p).warnings is Provider.warnings for ps in offline.values() for p in ps.all()):
        return []
    hub = Hub(config, plugins)
    path = hub.db.sqlite_path
    if hub.db.dialect == "sqlite" and (path is None or not path.exists()):
        return []

    async def collect() -> list[str]:
        found = []
        for slug, providers in hub.providers.items():
            for where, _, selection in hub.config.businesses[slug].selections():
                for provider in providers.all():
                    if provider.config is selection.config:
                        found += [
                            f"businesses.{slug}.{where}: {warning}"
                            for warning in await provider.warnings()
                        ]
        return found

    reading = _with_db(hub, collect, migrate=False)
    try:
        return asyncio.run(reading)
    except Exception as exc:  # an unreachable or unmigrated database is not a config problem
        reading.close()  # never started if asyncio.run refused it
        logging.getLogger("hub").debug("no state warnings: %s", exc)
        return []


@main.command()
def schema() -> None:
    """Print hub.yaml's JSON Schema, plugins' settings included.

    Save it (hub schema > hub.schema.json) for completion and checks in an editor.
    """
    from hub.schema import config_schema

    click.echo(json.dumps(config_schema(_plugins()), indent=2))


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def plugins_command(as_json: bool) -> None:
    """List plugins, what they provide, and any that failed."""
    from hub.plugins import PluginError, load_plugins

    try:
        plugins = load_plugins()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in plugins.infos], indent=2))
        return
    for info in plugins.infos:
        status = click.style("ok", fg="green") if info.ok else click.style("FAILED", fg="red")
        origin = (
            f"{info.distribution} {info.version or ''}".strip()
            if info.distribution
            else info.module
        )
        provides = ", ".join(f"{kind}:{name}" for kind, name in info.provides) or "-"
        click.echo(f"{info.name:<12} {status:<6} {origin:<24} {provides}")
        if info.error:
            click.echo(f"{'':<12} {info.error}")
    commands = sorted(plugin_commands(plugins))
    if commands:
        click.echo("commands: " + ", ".join(f"hub {name}" for name in commands))


# -- simulate -------------------------------------------------------------------------------------


@main.group()
def simulate() -> None:
    """Play a PBX or SMS gateway against a running hub.

    Each command posts a signed webhook to the business's `generic` source, at --url or the
    config's public_url, and prints the hub's answer.
    """


def _business_option(func: F) -> F:
    return click.option("--business", "-b", required=True, help="Business slug")(func)


def _url_option(func: F) -> F:
    return click.option(
        "--url",
        default=None,
        help="Base URL of the hub to post to (default: public_url from the config)",
    )(func)


def _post_generic(
    config_path: Path | None, business: str, route: str, data: dict[str, Any], url: str | None
) -> None:
    """Post ``data`` to the business's ``generic`` webhook ``route``, signed with its secret, and
    print the hub's answer."""
    import httpx

    from hub.defaults.generic import SIGNATURE_HEADER, GenericConfig, sign

    config = _config(config_path, _plugins())
    try:
        entry = config.business(business)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if entry.call_source.use != "generic":
        raise click.ClickException(
            f"business {business!r} takes calls from {entry.call_source.use!r}; "
            "`hub simulate` posts to the generic call source"
        )
    secret = entry.call_source.config
    assert isinstance(secret, GenericConfig)
    if "to" in data and data["to"] is None:
        data["to"] = entry.numbers[0]
    body = json.dumps(data).encode()
    target = f"{(url or config.public_url).rstrip('/')}/hooks/{business}/generic/{route}"
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret.secret.get_secret_value(), body),
    }
    try:
        response = httpx.post(target, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"cannot reach the hub at {target}: {exc} (is `hub serve` running? --url says where)"
        ) from None
    if response.status_code >= 400:
        raise click.ClickException(f"hub answered {response.status_code}: {response.text.strip()}")
    click.echo(f"{response.status_code} {response.text.strip()}")


def _phone(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from hub.phone import caller_number

    if value is not None and caller_number(value, "US") is None:
        raise click.BadParameter(f"{value!r} is not a phone number (write it as +15125550123)")
    return value


def _sim_id(prefix: str, given: str | None) -> str:
    return given or f"{prefix}-{uuid.uuid4().hex[:12]}"


@simulate.command("call")
@config_option
@_business_option
@click.option("--from", "caller", required=True, callback=_phone, help="Caller's number, E.164")
@click.option("--to", "called", default=None, help="Number called (default: the business's first)")
@click.option(
    "--outcome",
    type=click.Choice(["missed", "answered", "voicemail", "after_hours"]),
    default="missed",
    show_default=True,
    help="How the call ended",
)
@click.option(
    "--id", "call_id", default=None, help="Call id (same id = same call; default: random)"
)
@_url_option
def simulate_call(
    config_path: Path | None,
    business: str,
    caller: str,
    called: str | None,
    outcome: str,
    call_id: str | None,
    url: str | None,
) -> None:
    """Post a call, as a PBX would (default: a missed one)."""
    data = {
        "id": _sim_id("sim", call_id),
        "from": caller,
        "to": called,
        "outcome": outcome,
        "at": datetime.now(UTC).isoformat(),
    }
    _post_generic(config_path, business, "call", data, url)


@simulate.command("sms")
@config_option
@_business_option
@click.option(
    "--from", "sender", required=True, callback=_phone, help="The customer's number, E.164"
)
@click.option(
    "--to", "recipient", default=None, help="Number texted (default: the business's first)"
)
@click.option(
    "--id", "message_id", default=None, help="Message id (same id = same text; default: random)"
)
@_url_option
@click.argument("text")
def simulate_sms(
    config_path: Path | None,
    business: str,
    sender: str,
    recipient: str | None,
    message_id: str | None,
    url: str | None,
    text: str,
) -> None:
    """Post a customer's TEXT, as an SMS gateway would."""
    data = {
        "id": _sim_id("sim-sms", message_id),
        "from": sender,
        "to": recipient,
        "text": text,
        "at": datetime.now(UTC).isoformat(),
    }
    _post_generic(config_path, business, "sms", data, url)


@simulate.command("status")
@config_option
@_business_option
@click.option(
    "--message-id",
    required=True,
    help="The sender's id of the text (the console sender prints it: [console-...])",
)
@click.option(
    "--status",
    type=click.Choice(["queued", "sending", "sent", "delivered", "undelivered", "failed"]),
    default="delivered",
    show_default=True,
    help="What the gateway reports",
)
@click.option("--error-code", default=None, help="The gateway's error code, if any")
@_url_option
def simulate_status(
    config_path: Path | None,
    business: str,
    message_id: str,
    status: str,
    error_code: str | None,
    url: str | None,
) -> None:
    """Post a delivery report for a text the hub sent.

    The console sender prints each text's id ([console-...]); pass it as --message-id.
    """
    data = {
        "id": _sim_id("sim-status", None),
        "message_id": message_id,
        "status": status,
        "error_code": error_code,
    }
    _post_generic(config_path, business, "sms-status", data, url)


# -- replies --------------------------------------------------------------------------------------


@main.command("parse-reply")
@config_option
@click.option("--business", "-b", required=True, help="Business slug")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="When the text arrived, ISO-8601 (default: now; no offset means the business's time)",
)
@click.option(
    "--jsonl",
    type=click.File("r"),
    default=None,
    help='Parse each line {"text": ..., "now"?: ...} of FILE ("-": stdin), one JSON line each',
)
@click.argument("text", required=False)
def parse_reply(
    config_path: Path | None,
    business: str,
    now_text: str | None,
    jsonl: Any,
    text: str | None,
) -> None:
    """Print what the reply parsers read in TEXT, as JSON.

    Runs the business's `reply_parsers` in order (`rules` unless it lists others), as the hub
    does with a real reply, with its service catalog and timezone.
    """
    from zoneinfo import ZoneInfo

    from hub.keywords import classify_intent
    from hub.providers import ReplyParser
    from hub.types import ParseContext, ParsedReply

    if (text is None) == (jsonl is None):
        raise click.UsageError("give either TEXT or --jsonl FILE")
    hub = _hub(config_path)
    try:
        entry = hub.config.business(business)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    parsers: list[ReplyParser] = hub.parsers(business)
    zone = ZoneInfo(entry.timezone)
    services = {name: tuple(words) for name, words in entry.services.items()}

    def arrival(value: str | None, where: str) -> datetime:
        if not value:
            return hub.clock.now().astimezone(zone)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise click.ClickException(f"{where}: {value!r} is not an ISO-8601 time") from None
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)

    async def parse(body: str, received: datetime) -> dict[str, Any]:
        context = ParseContext(entry.slug, entry.timezone, received, services)
        found = ParsedReply()
        for parser in parsers:
            try:
                found = (await parser.parse(body, context)).merged_over(found)
            except Exception as exc:
                click.secho(f"warning: parser {parser.name!r} failed: {exc}", fg="yellow", err=True)
        callback = found.callback
        return {
            "intent": str(found.intent or classify_intent(body)),
            "service": found.service,
            "zip": found.zip,
            "urgency": found.urgency,
            "callback": {
                "start": callback.start.astimezone(zone).isoformat(),
                "end": callback.end.astimezone(zone).isoformat() if callback.end else None,
            }
            if callback
            else None,
            "name": found.name,
        }

    async def run() -> None:
        for parser in parsers:
            await parser.start()
        try:
            if text is not None:
                click.echo(json.dumps(await parse(text, arrival(now_text, "--now"))))
                return
            for number, line in enumerate(jsonl, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    body = row["text"]
                    if not isinstance(body, str):
                        raise TypeError
                except (ValueError, KeyError, TypeError):
                    raise click.ClickException(
                        f'line {number}: expected a JSON object with a string "text"'
                    ) from None
                received = arrival(row.get("now") or now_text, f"line {number}")
                click.echo(json.dumps(await parse(body, received), ensure_ascii=False))
        finally:
            for parser in parsers:
                await parser.close()

    _run(run())


# -- leads ----------------------------------------------------------------------------------------


@main.group("leads")
def leads_group() -> None:
    """Look at and update leads."""


@leads_group.command("list")
@config_option
@click.option("--business", "-b", default=None, help="Only this business's leads (its slug)")
@click.option(
    "--status",
    type=click.Choice(["new", "contacted", "booked", "closed"]),
    default=None,
    help="Only leads in this status",
)
@click.option("--limit", default=50, show_default=True, help="At most this many leads")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table")
def leads_list(
    config_path: Path | None, business: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """List leads, most recent first.

    Times are in each business's timezone; DETAILS shows what the customer told us.
    """
    from zoneinfo import ZoneInfo

    from hub.store.reads import LeadFilter

    hub = _hub(config_path)
    if business is not None:
        try:
            hub.config.business(business)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None

    async def fetch() -> list[LeadView]:
        page = await hub.reads.leads(LeadFilter(business=business, status=status), limit=limit)
        return page.leads

    rows = _run(_with_db(hub, fetch))
    if as_json:
        click.echo(json.dumps([_lead_dict(lead) for lead in rows], indent=2))
        return
    if not rows:
        click.echo("no leads")
        return
    row = "{:>5}  {:<16} {:<16} {:<10} {:>5}  {:<20} {}"
    _echo(row.format("ID", "BUSINESS", "CALLER", "STATUS", "CALLS", "LAST CALL", "DETAILS"))
    for lead in rows:
        details = ", ".join(str(v) for v in (lead.name, lead.service, lead.zip, lead.urgency) if v)
        entry = hub.config.businesses.get(lead.business)
        # The business's own clock: "14:03" means what its owner read on the phone.
        when = (
            lead.last_call_at.astimezone(ZoneInfo(entry.timezone))
            if lead.last_call_at and entry
            else lead.last_call_at
        )
        last = when.strftime("%Y-%m-%d %H:%M %Z") if when else "-"
        _echo(
            row.format(
                lead.id, lead.business, lead.caller, lead.status, lead.call_count, last, details
            )
        )


def _echo(line: str) -> None:
    """One line that carries customer words: control characters escaped (``terminal_safe``)."""
    from hub.text import terminal_safe

    click.echo(terminal_safe(line))


@leads_group.command("show")
@config_option
@click.argument("lead_id", type=int)
def leads_show(config_path: Path | None, lead_id: int) -> None:
    """Show lead LEAD_ID with its calls, texts and timeline."""
    hub = _hub(config_path)
    detail = _run(_with_db(hub, lambda: hub.reads.lead_detail(lead_id)))
    if detail is None:
        raise click.ClickException(f"no lead {lead_id}")
    for key, value in _lead_dict(detail.lead).items():
        _echo(f"{key:>15}: {value if value is not None else '-'}")
    click.echo("\ncalls:")
    for call in detail.calls:
        _echo(
            f"  {call.at:%Y-%m-%d %H:%M:%S} {call.outcome:<11} "
            f"{call.provider}:{call.provider_call_id}"
            + (f" (no text: {call.skipped_reason})" if call.skipped_reason else "")
        )
    click.echo("\ntexts:")
    for message in detail.messages:
        arrow = "<-" if message.direction == "in" else "->"
        _echo(
            f"  {message.created_at:%Y-%m-%d %H:%M:%S} {arrow} [{message.status}] {message.body}"
            + (
                f"  ({message.provider_message_id})"
                if message.direction == "out" and message.provider_message_id
                else ""
            )
        )
    click.echo("\ntimeline:")
    for event in detail.timeline:
        text = ", ".join(f"{k}={v}" for k, v in event.detail.items() if v is not None)
        _echo(f"  {event.at:%Y-%m-%d %H:%M:%S} {event.actor:<14} {event.kind:<18} {text}")


@leads_group.command("set-status")
@config_option
@click.argument("lead_id", type=int)
@click.argument("status", type=click.Choice(["new", "contacted", "booked", "closed"]))
def leads_set_status(config_path: Path | None, lead_id: int, status: str) -> None:
    """Set lead LEAD_ID's STATUS (new, contacted, booked, closed).

    The usual order is new → contacted → booked → closed; any status may follow any other.
    Sinks hear the change (lead.status_changed).
    """
    from hub.leads import LeadError, LeadStatus

    hub = _hub(config_path)

    async def update() -> bool:
        try:
            return await hub.leads.set_status(lead_id, LeadStatus(status), actor="cli")
        except LeadError as exc:
            raise click.ClickException(str(exc)) from None

    changed = _run(_with_db(hub, update))
    click.echo(f"lead {lead_id}: {status}" + ("" if changed else " (unchanged)"))


@leads_group.command("reply")
@config_option
@click.argument("lead_id", type=int)
@click.argument("text")
def leads_reply(config_path: Path | None, lead_id: int, text: str) -> None:
    """Text lead LEAD_ID's customer TEXT, as staff.

    It goes out through the running hub's worker, after the same checks as every text:
    opt-out, quiet hours.
    """
    hub = _hub(config_path)

    async def queue() -> int | None:
        lead = await hub.reads.lead(lead_id)
        if lead is None:
            raise click.ClickException(f"no lead {lead_id}")
        business = hub.config.business(lead.business)
        return await hub.outbound.queue_text(
            business,
            lead.id,
            "staff_reply",
            source_key=f"staff_reply:{uuid.uuid4().hex[:12]}",
            context={"text": text},
        )

    job_id = _run(_with_db(hub, queue))
    click.echo(f"queued as job {job_id}; the hub's worker sends it")


# -- API tokens -----------------------------------------------------------------------------------


@main.group("tokens")
def tokens_group() -> None:
    """Create, list and revoke tokens for the API (/api/v1)."""


@tokens_group.command("create")
@config_option
@click.option(
    "--business",
    "-b",
    "businesses",
    multiple=True,
    required=True,
    help="A business the token may see (its slug); repeat for more",
)
@click.option("--name", required=True, help="What the token is for (shown on the timeline)")
def tokens_create(config_path: Path | None, businesses: tuple[str, ...], name: str) -> None:
    """Create an API token and print it (only once).

    Only its hash is kept. Send it as `Authorization: Bearer TOKEN`; it sees only the
    businesses named.
    """
    from hub.store import tokens

    hub = _hub(config_path)
    for slug in businesses:
        try:
            hub.config.business(slug)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    if not name.strip() or len(name) > 64:
        raise click.BadParameter("a name of 1 to 64 characters", param_hint="--name")

    async def create() -> tuple[str, Any]:
        return await tokens.create(name.strip(), list(businesses), at=hub.clock.now())

    token, view = _run(_with_db(hub, create))
    click.echo(f"token {view.id} ({view.name}) for {', '.join(view.businesses)}:")
    click.echo(token)
    click.echo("Keep it now: it is not shown again.", err=True)


@tokens_group.command("list")
@config_option
def tokens_list(config_path: Path | None) -> None:
    """List API tokens (never the tokens themselves)."""
    from hub.store import tokens

    hub = _hub(config_path)
    rows = _run(_with_db(hub, tokens.all_tokens))
    if not rows:
        click.echo("no tokens")
        return
    row = "{:>4}  {:<24} {:<10} {:<17} {}"
    click.echo(row.format("ID", "NAME", "STATE", "CREATED", "BUSINESSES"))
    for token in rows:
        state = "revoked" if token.revoked_at else "active"
        created = f"{token.created_at:%Y-%m-%d %H:%M}"
        click.echo(row.format(token.id, token.name, state, created, ", ".join(token.businesses)))


@tokens_group.command("revoke")
@config_option
@click.argument("token_id", type=int)
def tokens_revoke(config_path: Path | None, token_id: int) -> None:
    """Revoke API token TOKEN_ID: it stops working at once.

    TOKEN_ID is the ID `hub tokens list` shows."""
    from hub.store import tokens

    hub = _hub(config_path)
    revoked = _run(_with_db(hub, lambda: tokens.revoke(token_id, at=hub.clock.now())))
    if not revoked:
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")


def _lead_dict(lead: LeadView) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": lead.id,
        "business": lead.business,
        "caller": lead.caller,
        "status": lead.status,
        "calls": lead.call_count,
        "name": lead.name,
        "service": lead.service,
        "zip": lead.zip,
        "urgency": lead.urgency,
        "source": lead.source,
        "email": lead.email,
        "callback_start": iso(lead.callback_start),
        "first_call_at": iso(lead.first_call_at),
        "last_call_at": iso(lead.last_call_at),
        "created_at": iso(lead.created_at),
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
