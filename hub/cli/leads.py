"""``hub leads``: look at and update leads."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.cli.base import (
    build_hub,
    config_option,
    main,
    run_async,
    with_database,
)

if TYPE_CHECKING:
    from hub.views import LeadView


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

    hub = build_hub(config_path)
    if business is not None:
        try:
            hub.config.business(business)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None

    async def fetch() -> list[LeadView]:
        page = await hub.reads.leads(LeadFilter(business=business, status=status), limit=limit)
        return page.leads

    rows = run_async(with_database(hub, fetch))
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
    hub = build_hub(config_path)
    detail = run_async(with_database(hub, lambda: hub.reads.lead_detail(lead_id)))
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

    hub = build_hub(config_path)

    async def update() -> bool:
        try:
            return await hub.leads.set_status(lead_id, LeadStatus(status), actor="cli")
        except LeadError as exc:
            raise click.ClickException(str(exc)) from None

    changed = run_async(with_database(hub, update))
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
    hub = build_hub(config_path)

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

    job_id = run_async(with_database(hub, queue))
    click.echo(f"queued as job {job_id}; the hub's worker sends it")


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
