"""The README's five-minute tour, as a user types it: serve, simulate a call, list leads."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from hub.testing import business, free_port, write_config

from .processes import HubProcess


def hub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=60,
    )


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


def test_simulate_a_call_then_list_show_and_update_the_lead(served):
    config = served
    simulate = ["simulate", "call", "--config", str(config), "--business", "acme"]
    first = hub(*simulate, "--from", "+15125550123", "--id", "tour-1")
    assert first.returncode == 0, first.stderr
    assert '"status":"scheduled"' in first.stdout
    again = hub(*simulate, "--from", "+15125550123", "--id", "tour-1")
    assert '"status":"duplicate"' in again.stdout

    deadline = time.monotonic() + 5
    while True:
        listed = hub("leads", "list", "--config", str(config))
        shown = hub("leads", "show", "1", "--config", str(config))
        if "texted" in shown.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert listed.returncode == 0, listed.stderr
    assert "+15125550123" in listed.stdout and "new" in listed.stdout
    assert "-> [sent] Hi, this is Acme Plumbing" in shown.stdout
    assert shown.stdout.count("generic:tour-1") == 1

    moved = hub("leads", "set-status", "1", "booked", "--config", str(config))
    assert moved.returncode == 0 and "lead 1: booked" in moved.stdout
    assert "booked" in hub("leads", "list", "--config", str(config), "--status", "booked").stdout
    assert "no leads" in hub("leads", "list", "--config", str(config), "--status", "new").stdout


def test_errors_are_one_line_not_a_traceback(hub_dir, served):
    config = served
    missing = hub("leads", "show", "999", "--config", str(config))
    assert missing.returncode == 1 and missing.stderr.strip() == "Error: no lead 999"
    wrong_business = hub(
        "simulate", "call", "--config", str(config), "--business", "nope", "--from", "+15125550123"
    )
    assert (
        "no business 'nope'" in wrong_business.stderr and "Traceback" not in wrong_business.stderr
    )
    no_config = hub("leads", "list", "--config", str(hub_dir / "absent.yaml"))
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
    result = hub("migrate", "--config", str(config))
    assert result.returncode == 1
    assert "cannot reach postgres://hub:***@127.0.0.1:1/hub" in result.stderr
    assert "secretpw" not in result.stderr and "Traceback" not in result.stderr
