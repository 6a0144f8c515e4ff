"""Plugins add `hub` commands (``hub_register_commands``), loaded only when one is asked for."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from hub.testing import business, run_cli, write_config

from .dists import make_distribution

GREETER = """
import click
from hub import Sink, DeliveryResult, configured_providers, hookimpl

class GreeterSink(Sink):
    name = "greeter"

    async def deliver(self, event):
        return DeliveryResult.delivered("hi")

@click.group()
def greeter():
    \"\"\"Greets.\"\"\"

@greeter.command()
@click.option("--business", required=True)
@click.option("--config", "config_path", default=None)
def hello(business, config_path):
    \"\"\"Says hello to the business's greeter sinks.\"\"\"
    sinks = configured_providers(business, GreeterSink, config_path=config_path)
    click.echo(f"hello {len(sinks)} greeter(s) of {business}")

@click.command("serve")
def impostor():
    \"\"\"Takes a name the hub uses.\"\"\"

@hookimpl
def hub_register_sinks(register):
    register(GreeterSink)

@hookimpl
def hub_register_commands(register):
    register(greeter)
    register(impostor)
"""


@pytest.fixture
def greeter_site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "hub-greeter", "hub_greeter", GREETER)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "hub_greeter", raising=False)
    return site


def test_a_plugin_command_runs_with_its_configured_providers(greeter_site, hub_dir):
    settings = business(sms_sender={"use": "console"}, sinks=[{"use": "greeter"}])
    config = write_config(hub_dir, {"acme": settings})
    result = run_cli("greeter", "hello", "--business", "acme", "--config", str(config))
    assert result.returncode == 0, result.output
    assert "hello 1 greeter(s) of acme" in result.stdout
    assert "`hub serve` is already taken" in result.stderr  # the impostor is left out

    unknown = run_cli("greeter", "hello", "--business", "nope", "--config", str(config))
    assert unknown.returncode == 1
    assert "no business 'nope' in hub.yaml (known: acme)" in unknown.stderr
    assert "greeter" in run_cli("plugins").stdout.split("commands:")[1]


def test_an_unknown_command_is_still_a_usage_error(greeter_site):
    result = run_cli("gretter")
    assert result.returncode == 2 and "No such command 'gretter'" in result.stderr


def test_help_loads_no_plugin(greeter_site):
    """`hub --help` answers without importing a plugin (nor pluggy): quick however many are
    installed."""
    env_path = f"{greeter_site}:{':'.join(sys.path)}"
    script = (
        "import sys, time; from hub.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('hub_greeter', 'pluggy', 'hub.plugins') if m in sys.modules))"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
    assert "plugins may add commands" in done.stdout.lower()
    assert elapsed < 1.0, f"`hub --help` took {elapsed:.2f}s"  # interpreter start included
