"""What hub.yaml may say about the housecall sink, as `hub check` sees it."""

from __future__ import annotations

import pytest
from hub_housecall.testing import housecall_sink

from hub.testing import business, config_issues, run_cli, write_config


def write(hub_dir, fake_housecall, **settings):
    sink = housecall_sink(fake_housecall, **settings)
    settings = business(sinks=[sink], sms_sender={"use": "console"})
    return write_config(hub_dir, {"acme": settings})


def test_a_good_selection_passes_hub_check(hub_dir, fake_housecall):
    result = run_cli("check", "--config", str(write(hub_dir, fake_housecall)))
    assert result.returncode == 0, result.output
    assert fake_housecall.api_key not in result.output


@pytest.mark.parametrize(
    ("settings", "where", "expected"),
    [
        ({"api_base_url": "api.housecallpro.com"}, "api_base_url", "must be an http(s) URL"),
        ({"app_url": "ftp://x"}, "app_url", "must be an http(s) URL"),
        ({"requests_per_minute": 0}, "requests_per_minute", "greater than or equal to 1"),
        ({"api_key": "short"}, "api_key", "at least 8 characters"),
        ({"apikey": "x"}, "apikey", "did you mean 'api_key'?"),
    ],
)
def test_wrong_settings_are_refused_with_their_path(
    hub_dir, fake_housecall, settings, where, expected
):
    [(path, message)] = config_issues(write(hub_dir, fake_housecall, **settings))
    assert path == f"businesses.acme.sinks[0].{where}"
    assert expected in message
    assert fake_housecall.api_key not in message


def test_the_readmes_hub_yaml_loads(hub_dir, monkeypatch):
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    sinks = yaml.load(block, Loader=yaml.BaseLoader)["businesses"]["acme"]["sinks"]  # `on` stays
    assert sinks[1]["api_key"] == {"$env": "HOUSECALL_API_KEY"}
    monkeypatch.setenv("HOUSECALL_API_KEY", "0123456789abcdef")
    settings = business(sinks=sinks, sms_sender={"use": "console"})
    assert config_issues(write_config(hub_dir, {"acme": settings})) == []
