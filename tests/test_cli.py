"""The README's five-minute tour, as a user types it: serve, simulate a call, list leads.

``hub serve`` runs as a real process (the tour's first terminal); every other command runs in
this process through click's ``CliRunner`` (``run_cli``). One smoke test starts the installed
``hub`` script itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.testing import business, eventually, free_port, run_cli, write_config

from .processes import HubProcess


@pytest.fixture
def served(hub_dir):
    port = free_port()
    config = write_config(
        hub_dir,
        {"acme": business(sms_sender={"use": "console"}, sinks=[{"use": "log"}])},
        public_url=f"http://127.0.0.1:{port}",
    )
    server = HubProcess(config, dict(os.environ), port)
    server.start()
    yield config
    server.stop()


@pytest.fixture
def config(hub_dir):
    return write_config(
        hub_dir, {"acme": business(sms_sender={"use": "console"}, sinks=[{"use": "log"}])}
    )


async def test_simulate_a_call_then_list_show_and_update_the_lead(served):
    import asyncio

    config = served

    def hub(*args: str):
        return asyncio.to_thread(run_cli, *args)  # the commands run their own event loop

    simulate = ["simulate", "call", "--config", str(config), "--business", "acme"]
    first = await hub(*simulate, "--from", "+15125550123", "--id", "tour-1")
    assert first.returncode == 0, first.stderr
    assert '"status":"scheduled"' in first.stdout
    again = await hub(*simulate, "--from", "+15125550123", "--id", "tour-1")
    assert '"status":"duplicate"' in again.stdout

    async def texted():
        shown = await hub("leads", "show", "1", "--config", str(config))
        assert "-> [sent] Hi, this is Acme Plumbing" in shown.stdout, shown.stdout
        return shown

    shown = await eventually(texted)  # the served hub's worker sends the text-back
    listed = await hub("leads", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    assert "+15125550123" in listed.stdout and "new" in listed.stdout
    assert "-> [sent] Hi, this is Acme Plumbing" in shown.stdout
    assert shown.stdout.count("generic:tour-1") == 1

    moved = await hub("leads", "set-status", "1", "booked", "--config", str(config))
    assert moved.returncode == 0 and "lead 1: booked" in moved.stdout
    booked = await hub("leads", "list", "--config", str(config), "--status", "booked")
    assert "booked" in booked.stdout
    new = await hub("leads", "list", "--config", str(config), "--status", "new")
    assert "no leads" in new.stdout


def test_errors_are_one_line_not_a_traceback(hub_dir, config):
    missing = run_cli("leads", "show", "999", "--config", str(config))
    assert missing.returncode == 1 and missing.stderr.strip() == "Error: no lead 999"
    wrong_business = run_cli(
        "simulate", "call", "--config", str(config), "--business", "nope", "--from", "+15125550123"
    )
    assert (
        "no business 'nope'" in wrong_business.stderr and "Traceback" not in wrong_business.stderr
    )
    no_config = run_cli("leads", "list", "--config", str(hub_dir / "absent.yaml"))
    assert (
        no_config.returncode == 2
        and "not found" in no_config.stderr
        and "Traceback" not in no_config.stderr
    )


def test_unreachable_database_is_one_clear_line(hub_dir):
    config = write_config(
        hub_dir,
        {"acme": business(sms_sender={"use": "console"}, sinks=[])},
        database="postgres://hub:secretpw@127.0.0.1:1/hub",
    )
    result = run_cli("migrate", "--config", str(config))
    assert result.returncode == 1
    assert "cannot reach postgres://hub:***@127.0.0.1:1/hub" in result.stderr
    assert "secretpw" not in result.stderr and "Traceback" not in result.stderr


def test_the_installed_hub_script_starts_and_answers():
    """The one subprocess smoke test: the console script, as installed, in a fresh process."""
    script = Path(sys.executable).with_name("hub")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hub.cli"]
    started = time.monotonic()
    result = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "Missed-call text-back hub." in result.stdout and "serve" in result.stdout
    assert elapsed < 10, f"`hub --help` took {elapsed:.1f}s"
    # What keeps it quick: `hub` and `hub.cli` import nothing heavy until a command needs it.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hub.cli; "
            "print(sorted(m for m in ('tortoise', 'pydantic', 'starlette', 'httpx', 'uvicorn') "
            "if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr


async def test_simulate_a_reply_and_its_delivery_report_through_the_generic_webhook(served):
    """The tour's second half: the customer answers, and a gateway reports the text delivered."""
    import asyncio
    import re

    config = served

    def hub(*args: str):
        return asyncio.to_thread(run_cli, *args)

    base = ["--config", str(config), "--business", "acme"]
    called = await hub("simulate", "call", *base, "--from", "+15125550123")
    assert called.returncode == 0, called.stderr

    async def texted():
        shown = await hub("leads", "show", "1", "--config", str(config))
        assert "-> [sent] Hi, this is Acme Plumbing" in shown.stdout, shown.stdout
        return shown

    shown = await eventually(texted)
    [sent_id] = re.findall(r"\((console-[0-9a-f]+)\)", shown.stdout)
    reply = await hub(
        "simulate", "sms", *base, "--from", "+15125550123", "water heater is leaking, 78704, Dana"
    )
    assert reply.returncode == 0, reply.stderr
    assert '"status":"received"' in reply.stdout
    report = await hub("simulate", "status", *base, "--message-id", sent_id)
    assert report.returncode == 0, report.stderr

    async def recorded():
        shown = await hub("leads", "show", "1", "--config", str(config))
        assert "<- [received] water heater is leaking, 78704, Dana" in shown.stdout, shown.stdout
        assert "-> [delivered] Hi, this is Acme Plumbing" in shown.stdout, shown.stdout
        assert "zip: 78704" in shown.stdout, shown.stdout
        return shown

    await eventually(recorded)
    garbled = await hub("simulate", "status", *base, "--message-id", "x", "--status", "lost")
    assert garbled.returncode == 2 and "Traceback" not in garbled.stderr


def test_serve_warns_in_one_line_when_public_url_is_not_where_it_listens(hub_dir):
    from hub.cli import listen_mismatch

    port = free_port()
    config = write_config(
        hub_dir,
        {"acme": business(sms_sender={"use": "console"}, sinks=[])},
        public_url=f"http://127.0.0.1:{port + 1}",
    )
    server = HubProcess(config, dict(os.environ), port)
    server.start()
    output = server.stop()
    warnings = [line for line in output.splitlines() if line.startswith("warning: listening")]
    assert warnings == [
        f"warning: listening on port {port} but public_url is http://127.0.0.1:{port + 1}: "
        "callbacks and `hub simulate` go there (set public_url, or use `hub simulate --url`)"
    ], output
    assert listen_mismatch("http://localhost:8000", "127.0.0.1", 8000) is None
    assert listen_mismatch("https://hub.example.com", "127.0.0.1", 8000) is None  # a proxy
    assert listen_mismatch("http://127.0.0.1", "127.0.0.1", 8001) is not None


async def test_simulate_posts_to_the_url_it_is_given(served, hub_dir):
    import asyncio

    # `served` listens where its public_url says; a second config points public_url elsewhere
    other = hub_dir / "other"
    other.mkdir()
    text = served.read_text()
    port = text.split("http://127.0.0.1:")[1].split()[0].strip("'\"")
    elsewhere = other / "hub.yaml"
    elsewhere.write_text(text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"))
    base = ["simulate", "call", "--config", str(elsewhere), "--business", "acme"]
    missed = await asyncio.to_thread(run_cli, *base, "--from", "+15125550123")
    assert missed.returncode == 1 and "cannot reach the hub at http://127.0.0.1:" in missed.stderr
    posted = await asyncio.to_thread(
        run_cli, *base, "--from", "+15125550123", "--url", f"http://127.0.0.1:{port}"
    )
    assert posted.returncode == 0 and '"status":"scheduled"' in posted.stdout, posted.stderr


def test_every_command_says_what_it_does_and_every_option_has_help():
    """`hub --help` lists whole descriptions at 80 columns; no option is left unexplained."""
    import click

    from hub.cli import main

    def commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
        found = []
        for name, command in group.commands.items():
            found.append((f"{prefix} {name}", command))
            if isinstance(command, click.Group):
                found += commands(command, f"{prefix} {name}")
        return found

    for path, command in commands(main, "hub"):
        assert command.help, f"`{path}` has no description"
        assert not command.get_short_help_str(limit=60).endswith("..."), path
        unexplained = [
            param.name
            for param in command.params
            if isinstance(param, click.Option) and not param.help and param.name != "help"
        ]
        assert unexplained == [], f"`{path}` options without help: {unexplained}"
    listed = run_cli("--help").stdout.split("Commands:")[1]
    assert "..." not in listed, listed
