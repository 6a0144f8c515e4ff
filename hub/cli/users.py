"""``hub users``: who may sign in to the dashboard."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hub.cli.base import (
    build_hub,
    config_option,
    main,
    run_async,
    with_database,
)


@main.group("users")
def users_group() -> None:
    """Manage who may sign in to the dashboard.

    An admin sees every business and manages users; an owner sees their businesses and manages
    users; staff see their businesses only.
    """


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_group.command("add")
@config_option
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "owner", "staff"]),
    required=True,
    help="admin: every business; owner or staff: only those given with --business",
)
@click.option(
    "--business", "-b", "businesses", multiple=True, help="A business slug they see (repeatable)"
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def users_add(
    config_path: Path | None,
    email: str,
    role: str,
    businesses: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Add user EMAIL, who may sign in to the dashboard.

    The password is asked for (twice), or read from standard input with --password-stdin.
    """
    from hub.store import users

    hub = build_hub(config_path)
    for slug in businesses:
        try:
            hub.config.business(slug)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    password = _password(password_stdin)

    async def add() -> users.UserView:
        try:
            return await users.add(email, password, users.Role(role), businesses)
        except users.UserError as exc:
            raise click.ClickException(str(exc)) from None

    user = run_async(with_database(hub, add))
    click.echo(f"added {user.email} ({user.role})")


@users_group.command("list")
@config_option
def users_list(config_path: Path | None) -> None:
    """List users: email, role, businesses."""
    from hub.store import users

    hub = build_hub(config_path)
    rows = run_async(with_database(hub, users.all_users))
    if not rows:
        click.echo("no users; add one with `hub users add EMAIL --role admin`")
    for user in rows:
        where = "every business" if user.is_admin else ", ".join(user.businesses)
        click.echo(f"{user.email:<32} {user.role:<6} {where}")


@users_group.command("remove")
@config_option
@click.argument("email")
def users_remove(config_path: Path | None, email: str) -> None:
    """Remove user EMAIL; their sessions end with them."""
    from hub.store import users

    hub = build_hub(config_path)

    async def remove() -> bool:
        try:
            return await users.remove(email)
        except users.UserError as exc:
            raise click.ClickException(str(exc)) from None

    if not run_async(with_database(hub, remove)):
        raise click.ClickException(f"no user {email}")
    click.echo(f"removed {email}")


@users_group.command("set-password")
@config_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def users_set_password(config_path: Path | None, email: str, password_stdin: bool) -> None:
    """Give user EMAIL a new password.

    Their other sessions end, and a lock after failed sign-ins is lifted.
    """
    from hub.store import users

    hub = build_hub(config_path)
    password = _password(password_stdin)

    async def change() -> bool:
        try:
            return await users.set_password(email, password)
        except users.UserError as exc:
            raise click.ClickException(str(exc)) from None

    if not run_async(with_database(hub, change)):
        raise click.ClickException(f"no user {email}")
    click.echo(f"password changed for {email}")
