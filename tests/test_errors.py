"""Errors a person understands: one line each, with the path, in one style."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from hub.testing import business, config_issues, run_cli, write_config

ROOT = Path(__file__).resolve().parents[1]


def plain(**overrides):
    return business(sms_sender={"use": "console"}, sinks=[], **overrides)


def test_an_unset_env_secret_or_missing_file_is_one_line_each(hub_dir, monkeypatch):
    monkeypatch.delenv("HUB_TEST_NOPE", raising=False)
    config = write_config(
        hub_dir,
        {
            "acme": plain(call_source={"use": "generic", "secret": {"$env": "HUB_TEST_NOPE"}}),
            "cold": plain(
                numbers=["+15125550300"],
                call_source={"use": "generic", "secret": {"$file": str(hub_dir / "absent")}},
            ),
        },
    )
    assert config_issues(config) == [
        ("businesses.acme.call_source.secret", "environment variable HUB_TEST_NOPE is not set"),
        (
            "businesses.cold.call_source.secret",
            f"cannot read secret file {hub_dir / 'absent'}: No such file or directory",
        ),
    ]


def test_an_unset_secret_in_defaults_is_reported_once(hub_dir, monkeypatch):
    monkeypatch.delenv("HUB_TEST_NOPE", raising=False)
    acme = plain()
    del acme["call_source"]
    bolt = plain(numbers=["+15125550200"])
    del bolt["call_source"]
    config = write_config(
        hub_dir,
        {"acme": acme, "bolt": bolt},
        defaults={"call_source": {"use": "generic", "secret": {"$env": "HUB_TEST_NOPE"}}},
    )
    assert config_issues(config) == [
        ("defaults.call_source.secret", "environment variable HUB_TEST_NOPE is not set")
    ]


def test_a_short_secret_says_characters_and_an_unquoted_number_says_to_quote_it(hub_dir):
    config = write_config(
        hub_dir,
        {"acme": plain(call_source={"use": "generic", "secret": "short"}, forward_to=5125550199)},
    )
    issues = dict(config_issues(config))
    assert "at least 8 characters" in issues["businesses.acme.call_source.secret"]
    assert "items" not in issues["businesses.acme.call_source.secret"]
    assert "quote" in issues["businesses.acme.forward_to"]


def test_a_misspelt_setting_gets_a_did_you_mean(hub_dir):
    config = write_config(hub_dir, {"acme": plain(fowrard_to="+15125550199")})
    assert config_issues(config) == [
        ("businesses.acme.fowrard_to", "unknown setting (did you mean 'forward_to'?)")
    ]


def test_inline_secrets_are_warned_about_by_check_one_line_per_field(hub_dir):
    config = write_config(hub_dir, {"acme": plain()})
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: businesses.acme.call_source.secret: a secret written inline; "
        "use {$env: NAME} or {$file: path}"
    ]
    assert "test-secret" not in result.output


def test_the_example_hub_yaml_validates_against_hub_schema():
    import jsonschema

    schema = run_cli("schema")
    assert schema.returncode == 0
    import json

    jsonschema.validate(yaml.safe_load((ROOT / "hub.yaml").read_text()), json.loads(schema.stdout))


def test_serve_on_a_port_in_use_says_so_in_one_line_and_starts_nothing(hub_dir):
    config = write_config(hub_dir, {"acme": plain()})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--config", str(config), "--port", str(port))
    assert result.returncode == 1
    assert result.output.strip().splitlines() == [
        f"Error: port {port} on 127.0.0.1 is in use (another hub?); choose another with --port"
    ]
    assert not (hub_dir / "hub.sqlite3").exists()  # nothing was started


def test_simulate_refuses_a_from_that_is_not_a_phone_number(hub_dir):
    config = write_config(hub_dir, {"acme": plain()})
    result = run_cli(
        "simulate", "call", "--config", str(config), "--business", "acme", "--from", "hello"
    )
    assert result.returncode == 2
    assert "'hello' is not a phone number" in result.stderr


def test_leads_list_for_an_unknown_business_says_so(hub_dir):
    config = write_config(hub_dir, {"acme": plain()})
    result = run_cli("leads", "list", "--config", str(config), "--business", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no business 'nope' in the config (known: acme)"


def test_hub_load_plugins_naming_no_installed_plugin_says_so():
    listed = run_cli("plugins", env={"HUB_LOAD_PLUGINS": "nonexistent"})
    assert listed.returncode == 0
    assert "nonexistent" in listed.stdout and "no such plugin is installed" in listed.stdout
    strict = run_cli("plugins", env={"HUB_LOAD_PLUGINS": "nonexistent", "HUB_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    assert strict.stderr.strip().startswith(
        "Error: HUB_LOAD_PLUGINS names plugin 'nonexistent': no such plugin is installed"
    )


def test_an_empty_hub_yaml_says_it_has_no_businesses(hub_dir):
    config = hub_dir / "hub.yaml"
    config.write_text("")
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 2
    assert "no businesses" in result.stderr


def test_a_business_defined_twice_says_where_the_other_definition_is(hub_dir):
    clients = hub_dir / "clients"
    clients.mkdir()
    (clients / "acme.yaml").write_text(yaml.safe_dump({"businesses": {"acme": plain()}}))
    config = write_config(hub_dir, {"acme": plain()}, include=["clients/*.yaml"])
    assert config_issues(config) == [
        ("businesses.acme", "is defined more than once (also in hub.yaml)")
    ]


async def test_leads_list_shows_times_in_the_business_timezone(hub_dir):
    import asyncio

    from hub.testing import in_process_hub

    config = write_config(hub_dir, {"acme": plain()})
    async with in_process_hub(config) as running:
        await running.post_call(id="tz-1", at="2026-11-26T14:03:00-06:00")
    listed = await asyncio.to_thread(run_cli, "leads", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split()[:3] == ["ID", "BUSINESS", "CALLER"]
    assert "2026-11-26 14:03 CST" in row
