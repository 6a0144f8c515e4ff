"""``hub backup``: a consistent copy of the hub's database, taken while it serves."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

from hub.cli.base import build_hub, config_option, main


@main.command("backup")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(config_path: Path | None, file: Path) -> None:
    """Copy the database to FILE, safely while serving.

    SQLite's online backup: consistent even while `hub serve` writes. On PostgreSQL, prints
    the pg_dump command to run instead and exits 1."""
    import sqlite3

    hub = build_hub(config_path)
    source = hub.db.sqlite_path
    if source is None:
        parts = urlsplit(hub.config.database)
        # The password stays out of the line: pg_dump reads PGPASSWORD or ~/.pgpass.
        host = parts.hostname or "localhost"
        netloc = f"{parts.username}@{host}" if parts.username else host
        netloc += f":{parts.port}" if parts.port else ""
        url = urlunsplit(("postgresql", netloc, parts.path, "", ""))
        raise click.ClickException(
            f"PostgreSQL: run  pg_dump --format=custom --file {file} '{url}'"
        )
    if not source.exists():
        raise click.ClickException(f"no database at {source}")
    if file.exists():
        raise click.ClickException(f"{file} exists: give a new file")
    partial = file.with_name(file.name + ".partial")
    try:
        with (
            sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live,
            sqlite3.connect(partial) as copy,
        ):
            live.backup(copy, pages=1024)  # in steps: writers are not held off for long
        live.close()
        copy.close()
        partial.rename(file)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"backup failed: {exc}") from None
    click.echo(f"backed up {source} to {file}")
