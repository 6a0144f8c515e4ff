"""``hub parse-reply``: what the reply parsers read in a customer's text."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from hub.cli.base import (
    build_hub,
    config_option,
    main,
    run_async,
)


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
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    from hub.keywords import classify_intent
    from hub.providers import ReplyParser
    from hub.types import ParseContext, ParsedReply

    if (text is None) == (jsonl is None):
        raise click.UsageError("give either TEXT or --jsonl FILE")
    hub = build_hub(config_path)
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
                parsed = await parser.parse(body, replace(context, found=found))
                found = parsed.merged_over(found)
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

    run_async(run())
