"""``hub simulate``: a PBX or an SMS gateway, played against a running hub."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from hub.cli.base import (
    F,
    config_option,
    installed_plugins,
    main,
    read_config,
)


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
    from hub.text import terminal_safe

    config = read_config(config_path, installed_plugins())
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
        answer = terminal_safe(response.text.strip())
        raise click.ClickException(f"hub answered {response.status_code}: {answer}")
    click.echo(terminal_safe(f"{response.status_code} {response.text.strip()}"))


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
