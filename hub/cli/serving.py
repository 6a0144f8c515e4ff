"""``hub serve``, ``hub worker``, ``hub migrate``: running the hub."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from hub.cli.base import (
    build_hub,
    config_option,
    main,
    print_config_warnings,
    run_async,
    setup_logging,
)


def _check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on, before anything starts."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is in use (another hub?); choose another with --port"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0", "::"}  # noqa: S104


def listen_mismatch(public_url: str, host: str, port: int) -> str | None:
    """Why ``public_url`` is not where ``hub serve --host HOST --port PORT`` listens, or ``None``.

    Only a ``public_url`` on this machine is compared: behind a proxy it names another host and
    port on purpose."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    public_host = (parts.hostname or "").lower()
    if public_host not in _LOCAL_HOSTS | {host.lower()}:
        return None
    try:
        public_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if public_port == port:
        return None
    return (
        f"listening on port {port} but public_url is {public_url}: "
        f"callbacks and `hub simulate` go there (set public_url, or use `hub simulate --url`)"
    )


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on")
@click.option("--no-worker", is_flag=True, help="Only answer webhooks; run `hub worker` elsewhere")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail")
def serve(config_path: Path | None, host: str, port: int, no_worker: bool, verbose: bool) -> None:
    """Answer webhooks, and run jobs unless --no-worker.

    Listens on --host/--port; public_url in hub.yaml must reach it from outside, since providers
    post there. Migrates an SQLite database on start.
    """
    _check_port(host, port)
    import uvicorn

    from hub.connections import server_options
    from hub.web import create_app

    setup_logging(verbose)
    hub = build_hub(config_path)
    print_config_warnings(hub.config)
    if no_worker:
        hub.config.worker.in_process = False
    click.echo(f"hub: {len(hub.config.businesses)} business(es), database {hub.db.redacted_url()}")
    click.echo(f"hub: serving on http://{host}:{port} (public URL {hub.config.public_url})")
    mismatch = listen_mismatch(hub.config.public_url, host, port)
    if mismatch:
        click.secho(f"warning: {mismatch}", fg="yellow", err=True)
    uvicorn.run(
        create_app(hub), host=host, port=port, log_config=None, access_log=False, lifespan="on",
        # A dashboard tab's /events stream stays open; stopping waits this long for it (webhooks
        # take milliseconds), then closes it and the browser reconnects to the next process.
        timeout_graceful_shutdown=5,
        # Idle connections and request heads are bounded in time and size (hub.connections).
        **server_options(),
    )  # fmt: skip


@main.command()
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail")
def worker(config_path: Path | None, verbose: bool) -> None:
    """Run jobs only, beside `hub serve --no-worker`.

    Scale-out: run several, on several machines, against one PostgreSQL database.
    """
    setup_logging(verbose)
    hub = build_hub(config_path)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await hub.start(worker=True)
        click.echo(f"hub worker {hub.worker.id if hub.worker else '?'}: running; Ctrl-C stops")
        try:
            await stop.wait()
        finally:
            await hub.stop()

    run_async(run())


@main.command()
@config_option
def migrate(config_path: Path | None) -> None:
    """Create or upgrade the database's tables.

    Safe to run from several processes at once: one migrates, the others wait.
    """
    hub = build_hub(config_path)

    async def run() -> list[str]:
        await hub.db.connect()
        try:
            return await hub.db.migrate(progress=click.echo)
        finally:
            await hub.db.close()

    applied = run_async(run())
    click.echo(
        f"{len(applied)} migration(s) applied; database {hub.db.redacted_url()} is up to date"
    )
