"""``hub contacts``: a person's data out (``export``), or erased (``forget``)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.cli.base import build_hub, config_option, main, run_async, with_database

if TYPE_CHECKING:
    from hub.runtime import Hub

_BUSINESS_HELP = "Only this business (its slug); without it, every business that holds the number"


@main.group("contacts")
def contacts_group() -> None:
    """Export or erase a person's data (opt-outs are kept)."""


def _target(hub: Hub, raw: str, business: str | None) -> str:
    """``raw`` as E.164, read in ``business``'s region (else the first business's); an unknown
    business or a number that is none is a one-line error."""
    from hub.phone import caller_number

    region = None
    if business is not None:
        try:
            region = hub.config.business(business).region
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    elif hub.config.businesses:
        region = next(iter(hub.config.businesses.values())).region
    phone = caller_number(raw, region)
    if phone is None:
        raise click.BadParameter(f"{raw!r} is not a phone number", param_hint="PHONE")
    return phone


async def _businesses(phone: str, business: str | None) -> list[str]:
    from hub.store import privacy

    return [business] if business is not None else await privacy.businesses_of(phone)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum (a lead's status, a text's direction)
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


@contacts_group.command("export")
@config_option
@click.argument("phone")
@click.option("--business", "-b", default=None, help=_BUSINESS_HELP)
def contacts_export(config_path: Path | None, phone: str, business: str | None) -> None:
    """Print all the hub holds about PHONE, as JSON.

    Per business: the contact (with any opt-out), leads, calls, texts, each lead's timeline and
    its deliveries' states (not what was sent to the sinks). PHONE may be written any common
    way (+1 512 555 0123, (512) 555-0123).
    """
    from hub.store import privacy

    hub = build_hub(config_path)
    number = _target(hub, phone, business)

    async def collect() -> list[dict[str, Any]]:
        return [await privacy.export(b, number) for b in await _businesses(number, business)]

    records = run_async(with_database(hub, collect))
    # ensure_ascii: what a customer wrote cannot reach the terminal as control characters.
    click.echo(json.dumps({"phone": number, "businesses": records}, indent=2, default=_plain))


@contacts_group.command("forget")
@config_option
@click.argument("phone")
@click.option("--business", "-b", default=None, help=_BUSINESS_HELP)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
def contacts_forget(config_path: Path | None, phone: str, business: str | None, yes: bool) -> None:
    """Erase PHONE's data, keeping any opt-out.

    Texts, calls, leads (with their timeline, deliveries and the jobs that name them), the
    contact (its line-type cache too), and what plugins keep under keys naming the number.

    Their opt-out record stays, as the law requires: the hub goes on never texting a number
    that asked it to stop. Without --business, every business's data of the number goes.
    """
    from hub.store import privacy

    hub = build_hub(config_path)
    number = _target(hub, phone, business)
    scope = f"business {business}" if business else "every business"
    if not yes:
        click.confirm(
            f"Erase everything about {number} at {scope} (opt-outs are kept)?", abort=True
        )

    async def erase() -> dict[str, dict[str, int]]:
        return {
            b: await privacy.forget(hub.db, b, number) for b in await _businesses(number, business)
        }

    removed = run_async(with_database(hub, erase))
    if not removed:
        click.echo(f"nothing held about {number}")
    for slug, counts in removed.items():
        listed = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
        click.echo(f"{slug}: removed {listed or 'nothing'} ({number})")
