"""Lead events: which sinks hear which events, as hub.yaml chooses."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, load_config
from hub.events import NOTIFICATIONS, EventKind
from hub.plugins import load_plugins

BUSINESS = """\
businesses:
  acme:
    name: Acme Plumbing
    timezone: America/Chicago
    numbers: ["+15125550100"]
    call_source: {use: generic, secret: test-secret-0123456789}
    sms_sender: {use: console}
    sinks:
"""


def load(tmp_path: Path, sinks: str):
    path = tmp_path / "hub.yaml"
    path.write_text(BUSINESS + sinks)
    return load_config(path, load_plugins())


def issues(tmp_path: Path, sinks: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, sinks)
    return [str(issue) for issue in caught.value.issues]


def test_a_sink_gets_the_owner_notifications_unless_hub_yaml_narrows_them(tmp_path):
    # A bare `on:` is YAML 1.1's boolean true; it still means the events.
    config = load(tmp_path, "      - use: log\n      - use: log\n        on: [notify.urgent]\n")
    plain, narrowed = config.businesses["acme"].sinks
    assert plain.events(NOTIFICATIONS, NOTIFICATIONS) == NOTIFICATIONS
    assert narrowed.events(NOTIFICATIONS, NOTIFICATIONS) == {EventKind.NOTIFY_URGENT}


def test_an_unknown_event_is_reported_with_its_path(tmp_path):
    [issue] = issues(tmp_path, "      - use: log\n        on: [lead.craeted]\n")
    assert issue.startswith("businesses.acme.sinks[0].on")
    assert "'lead.craeted'" in issue and "lead.created" in issue


def test_an_event_the_sink_does_not_take_is_reported(tmp_path):
    [issue] = issues(tmp_path, "      - use: log\n        on: [lead.created]\n")
    assert issue.startswith("businesses.acme.sinks[0].on")
    assert "does not take lead.created" in issue and "notify.summary" in issue


def test_on_is_not_a_setting_of_other_plugins(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text(
        BUSINESS.replace("{use: console}", "{use: console, on: [lead.created]}")
        + "      - use: log\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, load_plugins())
    assert [str(i) for i in caught.value.issues] == [
        "businesses.acme.sms_sender.on: unknown setting"
    ]
