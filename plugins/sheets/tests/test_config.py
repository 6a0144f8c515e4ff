"""What hub.yaml may say about the sheets sink, as `hub check` and `hub schema` see it."""

from __future__ import annotations

import json

import pytest
from hub_sheets.testing import make_service_account_key, sheets_sink

from hub.testing import business, config_issues, run_cli, write_config


def write(hub_dir, fake_google, *, key=None, **settings):
    sink = sheets_sink(fake_google, hub_dir, key=key, **settings)
    settings = business(sinks=[sink], sms_sender={"use": "console"})  # installed plugins only
    return write_config(hub_dir, {"acme": settings}), sink


def test_a_good_selection_passes_hub_check(hub_dir, fake_google):
    path, _ = write(hub_dir, fake_google)
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 0, result.output
    assert "OK (1 business)" in result.stdout


def test_unknown_columns_are_refused_with_the_known_ones(hub_dir, fake_google):
    path, _ = write(hub_dir, fake_google, columns=["name", "zipp", "lead_id"])
    [(where, message)] = config_issues(path)
    assert where == "businesses.acme.sinks[0].columns"
    assert "unknown column 'zipp' (did you mean 'zip'?)" in message
    assert "known: received, status, name, phone" in message


def test_columns_must_hold_the_lead_id(hub_dir, fake_google):
    path, _ = write(hub_dir, fake_google, columns=["name", "phone"])
    [(_, message)] = config_issues(path)
    assert "must include lead_id" in message


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda key: "not json at all", "is not a JSON key"),
        (lambda key: {**key, "type": "authorized_user"}, 'its "type" must be "service_account"'),
        (lambda key: {k: v for k, v in key.items() if k != "client_email"}, "no client_email"),
        (lambda key: {**key, "token_uri": "oauth2.googleapis.com"}, "token_uri is not"),
        (
            lambda key: {**key, "private_key": key["private_key"].replace("A", "B")},
            "private_key is not an unencrypted PEM private key",
        ),
    ],
)
def test_a_broken_key_is_reported_by_hub_check_and_never_shown(
    hub_dir, fake_google, spoil, expected
):
    key, _ = make_service_account_key(fake_google.token_uri)
    path, sink = write(hub_dir, fake_google, key=key)
    spoilt = spoil(key)
    key_file = sink["credentials"]["$file"]
    with open(key_file, "w", encoding="utf-8") as file:
        file.write(spoilt if isinstance(spoilt, str) else json.dumps(spoilt))
    result = run_cli("check", "--config", str(path))
    assert result.returncode != 0
    assert "businesses.acme.sinks[0].credentials" in result.output and expected in result.output
    pem_body = key["private_key"].splitlines()[5]
    assert pem_body not in result.output and "PRIVATE KEY" not in result.output


def test_hub_schema_describes_the_sink(hub_dir):
    result = run_cli("schema")
    assert result.returncode == 0
    text = result.stdout
    assert '"sheets"' in text and "spreadsheet_id" in text
    assert "share the sheet with its client_email" in text


def test_the_readmes_hub_yaml_loads(hub_dir, fake_google):
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    sinks = yaml.load(block, Loader=yaml.BaseLoader)["businesses"]["acme"]["sinks"]  # `on` stays
    key_file = hub_dir / sinks[1]["credentials"]["$file"]
    key_file.write_text(json.dumps(fake_google.service_account_key()), encoding="utf-8")
    settings = business(sinks=sinks, sms_sender={"use": "console"})
    assert config_issues(write_config(hub_dir, {"acme": settings})) == []
