"""What hub.yaml may say about the hubspot sink, as `hub check` and `hub schema` see it."""

from __future__ import annotations

import json

import pytest
from hub_hubspot.testing import hubspot_sink

from hub.testing import business, config_issues, run_cli, write_config


def write(hub_dir, fake_hubspot, **settings):
    sink = hubspot_sink(fake_hubspot, **settings)
    settings = business(sinks=[sink], sms_sender={"use": "console"})  # installed plugins only
    return write_config(hub_dir, {"acme": settings})


def test_a_good_selection_passes_hub_check(hub_dir, fake_hubspot):
    result = run_cli("check", "--config", str(write(hub_dir, fake_hubspot)))
    assert result.returncode == 0, result.output
    assert fake_hubspot.token not in result.output


@pytest.mark.parametrize(
    ("settings", "where", "expected"),
    [
        ({"stages": {"won": "closedwon"}}, "stages", "unknown lead status 'won'"),
        ({"api_version": "v4"}, "api_version", "String should match pattern"),
        ({"api_base_url": "api.hubapi.com"}, "api_base_url", "must be an http(s) URL"),
        ({"owner_id": "alice"}, "owner_id", "String should match pattern"),
        ({"requests_per_10s": 500}, "requests_per_10s", "less than or equal to 190"),
        ({"tokn": "x"}, "tokn", "did you mean 'token'?"),
    ],
)
def test_wrong_settings_are_refused_with_their_path(
    hub_dir, fake_hubspot, settings, where, expected
):
    [(path, message)] = config_issues(write(hub_dir, fake_hubspot, **settings))
    assert path == f"businesses.acme.sinks[0].{where}"
    assert expected in message
    assert fake_hubspot.token not in message


def test_a_missing_token_is_named_and_a_present_one_never_shown(hub_dir, fake_hubspot):
    path = write(hub_dir, fake_hubspot, token=None, stages={"wonn": "x"})
    result = run_cli("check", "--config", str(path))
    assert result.returncode != 0
    assert "businesses.acme.sinks[0].token" in result.output


def test_stages_keep_the_defaults_for_statuses_not_named(hub_dir, fake_hubspot):
    from hub_hubspot.config import HubSpotConfig

    config = HubSpotConfig(token="pat-na1-secret", stages={"booked": "contractsent"})
    assert config.stages == {
        "new": "appointmentscheduled",
        "contacted": "qualifiedtobuy",
        "booked": "contractsent",
        "closed": "closedlost",
    }
    assert "pat-na1-secret" not in repr(config) + str(config)


def test_hub_schema_describes_every_setting():
    result = run_cli("schema")
    assert result.returncode == 0, result.output
    schema = json.loads(result.stdout)
    text = json.dumps(schema)
    for name in ("token", "api_version", "pipeline", "stages", "owner_id", "portal_id"):
        assert name in text
    assert "2026-03" in text


def test_the_readmes_hub_yaml_loads(hub_dir, monkeypatch):
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    sinks = yaml.load(block, Loader=yaml.BaseLoader)["businesses"]["acme"]["sinks"]  # `on` stays
    assert sinks[1]["token"] == {"$env": "HUBSPOT_TOKEN"}
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-na1-from-the-environment")
    settings = business(sinks=sinks, sms_sender={"use": "console"})
    assert config_issues(write_config(hub_dir, {"acme": settings})) == []
