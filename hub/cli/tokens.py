"""``hub tokens``: tokens for the API (``/api/v1``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hub.cli.base import (
    build_hub,
    config_option,
    main,
    run_async,
    with_database,
)


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

    hub = build_hub(config_path)
    for slug in businesses:
        try:
            hub.config.business(slug)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    if not name.strip() or len(name) > 64:
        raise click.BadParameter("a name of 1 to 64 characters", param_hint="--name")

    async def create() -> tuple[str, Any]:
        return await tokens.create(name.strip(), list(businesses), at=hub.clock.now())

    token, view = run_async(with_database(hub, create))
    click.echo(f"token {view.id} ({view.name}) for {', '.join(view.businesses)}:")
    click.echo(token)
    click.echo("Keep it now: it is not shown again.", err=True)


@tokens_group.command("list")
@config_option
def tokens_list(config_path: Path | None) -> None:
    """List API tokens (never the tokens themselves)."""
    from hub.store import tokens

    hub = build_hub(config_path)
    rows = run_async(with_database(hub, tokens.all_tokens))
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

    hub = build_hub(config_path)
    revoked = run_async(with_database(hub, lambda: tokens.revoke(token_id, at=hub.clock.now())))
    if not revoked:
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")
