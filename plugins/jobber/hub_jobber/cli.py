"""``hub jobber ...``: the owner's side of connecting."""

from __future__ import annotations

from pathlib import Path

import click

import hub


@click.group()
def jobber() -> None:
    """Jobber: connect a business's Jobber account."""


@jobber.command()
@click.option("--business", required=True, help="The business (its slug in hub.yaml)")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="hub.yaml to use (default: $HUB_CONFIG or ./hub.yaml)",
)
def connect(business: str, config_path: Path | None) -> None:
    """Print the link a Jobber admin opens to connect BUSINESS (valid a day).

    The hub must be serving at public_url: the link goes through it to Jobber and back.
    """
    from hub_jobber.sink import JobberSink

    sinks = hub.configured_providers(business, JobberSink, config_path=config_path)
    if not sinks:
        raise click.ClickException(f"business {business!r} has no `use: jobber` sink")
    click.echo(sinks[0].connector.connect_url())
