"""The ``hub`` group and what its commands share: the ``--config`` option, loading the plugins
and hub.yaml with one-line errors, running a coroutine against the database.

Everything heavier than click (Tortoise, pydantic, Starlette, httpx, the plugins) is imported by
the commands that use it, so `hub --help` and a typo answer at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from hub.config import HubConfig
    from hub.plugins import Plugins
    from hub.runtime import Hub

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


#: Characters a terminal acts on rather than shows: C0 and C1 controls (ESC starts a sequence
#: that can rewrite the screen or the clipboard), DEL, and the bidirectional overrides and
#: isolates that reorder what follows them (Trojan Source).
_UNPRINTABLE = frozenset(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
) | {0x200E, 0x200F, 0x061C}


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: each control, escape or bidi character becomes
    a visible escape (``\\x1b``, ``\\u202e``), a backslash is doubled so nothing reads as one.
    For whatever a customer or a provider wrote."""
    out: list[str] = []
    for char in str(text):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif code in _UNPRINTABLE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def installed_plugins() -> Plugins:
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


def read_config(path: Path | None, plugins: Plugins) -> HubConfig:
    from hub.config import ConfigError, default_config_path, load_config

    try:
        return load_config(path or default_config_path(), plugins)
    except ConfigError as exc:
        for issue in exc.issues:
            click.secho(f"error: {issue}", fg="red", err=True)
        raise click.exceptions.Exit(2) from None


def print_config_warnings(config: HubConfig) -> None:
    for warning in config.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def build_hub(path: Path | None) -> Hub:
    from hub.runtime import Hub

    plugins = installed_plugins()
    return Hub(read_config(path, plugins), plugins)


def run_async(coro: Awaitable[T]) -> T:
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


async def with_database(
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
        return plugin_commands(installed_plugins()).get(cmd_name)


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
    hub = build_hub(config_path)
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
