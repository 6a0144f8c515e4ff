"""``hub check``, ``hub schema``, ``hub plugins``: what hub.yaml and the installed plugins say."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.cli.base import (
    config_option,
    installed_plugins,
    main,
    plugin_commands,
    print_config_warnings,
    read_config,
    with_database,
)

if TYPE_CHECKING:
    from hub.assembly import BusinessProviders
    from hub.config import HubConfig
    from hub.plugins import Plugins


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

    plugins = installed_plugins()
    config = read_config(config_path, plugins)
    print_config_warnings(config)
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
    checked: set[tuple[str, str | None]] = set()
    for slug, business in config.businesses.items():
        for issue in check_templates(templates, business, checked):
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

    if all(type(p).warnings is Provider.warnings for ps in offline.values() for p in ps.all()):
        return []
    from hub.runtime import Hub  # the ORM: only for a config whose providers keep state

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

    reading = with_database(hub, collect, migrate=False)
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

    click.echo(json.dumps(config_schema(installed_plugins()), indent=2))


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
