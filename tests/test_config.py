"""hub.yaml: every mistake reported with its path, secrets never shown, includes and defaults."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from hub.config import ConfigError, load_config
from hub.plugins import load_plugins
from hub.schema import config_schema
from hub.testing import MemoryPlugin, business, run_cli, write_config

SECRET = "s3cr3t-value-that-must-not-leak"


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def valid_business(**overrides: object) -> dict:
    data = {
        "name": "Acme Plumbing",
        "timezone": "America/Chicago",
        "numbers": ["+15125550100"],
        "call_source": {"use": "generic", "secret": {"$env": "ACME_SECRET"}},
        "sms_sender": {"use": "console"},
        "sinks": [{"use": "log"}, {"use": "email", "host": "smtp.example.com", "port": 587}],
        "owner": {"email": "pat@example.com"},
    }
    data.update(overrides)
    return data


def issues(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, load_plugins())
    return [str(issue) for issue in caught.value.issues]


def test_valid_config_loads_with_defaults_and_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    path = write(
        tmp_path / "hub.yaml",
        {
            "defaults": {"timezone": "America/Denver", "sms_sender": {"use": "console"}},
            "businesses": {
                "acme": valid_business(timezone="America/Chicago"),
                "bee": {
                    "name": "Bee Electric",
                    "numbers": ["+1 (303) 555-0100"],
                    "call_source": {"use": "generic", "secret": {"$file": "bee.secret"}},
                },
            },
        },
    )
    (tmp_path / "bee.secret").write_text("bee-secret-12345\n")
    config = load_config(path, load_plugins())
    acme, bee = config.businesses["acme"], config.businesses["bee"]
    assert acme.timezone == "America/Chicago" and bee.timezone == "America/Denver"
    assert bee.numbers == ["+13035550100"]
    assert bee.sms_sender.use == "console"
    assert acme.call_source.config.secret.get_secret_value() == SECRET
    assert bee.call_source.config.secret.get_secret_value() == "bee-secret-12345"
    assert SECRET not in repr(acme) and SECRET not in repr(acme.call_source.config)
    assert config.database == "sqlite://hub.sqlite3"


def test_three_mistakes_give_three_errors_with_paths_and_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    path = write(
        tmp_path / "hub.yaml",
        {
            "businesses": {
                "acme": valid_business(
                    timezone="America/Chicgo",
                    sinks=[
                        {"use": "log"},
                        {"use": "email", "host": "smtp.example.com", "port": 99999},
                    ],
                    sms_sender={"use": "consol"},
                )
            }
        },
    )
    found = issues(path)
    assert len(found) == 3, found
    text = "\n".join(found)
    assert (
        "businesses.acme.timezone: unknown timezone 'America/Chicgo' (did you mean 'America/Chicago'?)"
        in text
    )
    assert "businesses.acme.sinks[1].port:" in text
    assert (
        "businesses.acme.sms_sender.use: unknown sms sender 'consol' (did you mean 'console'?)"
        in text
    )
    assert "installed: console" in text
    assert SECRET not in text


def test_unknown_settings_and_missing_ones_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_SECRET", raising=False)
    body = valid_business(colour="blue")
    del body["numbers"]
    body["sinks"] = [{"use": "email", "hots": "smtp.example.com"}]
    found = issues(write(tmp_path / "hub.yaml", {"businesses": {"acme": body}}))
    text = "\n".join(found)
    assert "businesses.acme.colour: unknown setting" in text
    assert "businesses.acme.numbers: required setting is missing" in text
    assert "businesses.acme.sinks[0].hots: unknown setting" in text
    assert "businesses.acme.call_source.secret: environment variable ACME_SECRET is not set" in text


def test_a_secret_in_a_wrong_place_is_not_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    path = write(
        tmp_path / "hub.yaml",
        {
            "businesses": {
                "acme": valid_business(
                    numbers=[{"$env": "ACME_SECRET"}],
                )
            }
        },
    )
    text = "\n".join(issues(path))
    assert "businesses.acme.numbers[0]" in text
    assert SECRET not in text


def test_yaml_syntax_errors_name_the_line(tmp_path):
    found = issues(write(tmp_path / "hub.yaml", "businesses:\n  acme: [unclosed\n"))
    assert len(found) == 1 and "line" in found[0]


def test_missing_file(tmp_path):
    found = issues(tmp_path / "nope.yaml")
    assert "not found" in found[0]


def test_includes_one_file_per_client(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    (tmp_path / "clients").mkdir()
    write(tmp_path / "clients" / "acme.yaml", {"businesses": {"acme": valid_business()}})
    write(
        tmp_path / "clients" / "bee.yaml",
        {
            "businesses": {
                "bee": valid_business(
                    name="Bee",
                    numbers=["+15125550101"],
                    sinks=[{"use": "lgo"}],
                )
            }
        },
    )
    path = write(tmp_path / "hub.yaml", {"include": ["clients/*.yaml"]})
    [found] = issues(path)
    assert found.startswith(
        "clients/bee.yaml: businesses.bee.sinks[0].use: unknown sink 'lgo' (did you mean 'log'?); "
        "installed: "
    )
    assert {"email", "log"} <= set(found.split("installed: ")[1].split(", "))
    write(
        tmp_path / "clients" / "bee.yaml",
        {"businesses": {"bee": valid_business(name="Bee", numbers=["+15125550101"])}},
    )
    assert sorted(load_config(path, load_plugins()).businesses) == ["acme", "bee"]


def test_a_number_belongs_to_one_business(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    path = write(
        tmp_path / "hub.yaml",
        {"businesses": {"acme": valid_business(), "copy": valid_business(name="Copy")}},
    )
    assert any("also a number of business 'acme'" in issue for issue in issues(path))


def test_bad_hours_and_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    path = write(
        tmp_path / "hub.yaml",
        {
            "businesses": {
                "acme": valid_business(
                    hours={"mon": "9-5"},
                    numbers=["5125550100"],
                    forward_to="+1 512 555 0199",
                )
            }
        },
    )
    text = "\n".join(issues(path))
    assert "businesses.acme.hours: opening window '9-5' is not like '08:00-17:00'" in text
    assert "businesses.acme.numbers[0]: '5125550100' is not an E.164 phone number" in text
    assert "forward_to" not in text


def test_hub_check_cli_prints_every_error_and_exits_nonzero(tmp_path):
    path = write(
        tmp_path / "hub.yaml",
        {
            "businesses": {
                "acme": valid_business(
                    call_source={"use": "generic", "secret": SECRET},
                    timezone="Mars/Olympus",
                    sms_sender={"use": "console", "speed": 3},
                    sinks=[{"use": "email", "port": "many"}],
                )
            }
        },
    )
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 3, result.stderr
    assert "businesses.acme.sinks[0].port" in result.stderr
    assert "businesses.acme.sms_sender.speed: unknown setting" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_hub_check_reports_provider_problems(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_SECRET", SECRET)
    body = valid_business(owner={"name": "No Email"})
    path = write(tmp_path / "hub.yaml", {"businesses": {"acme": body}})
    result = run_cli("check", "--config", str(path), env={"ACME_SECRET": SECRET})
    assert result.returncode == 2
    assert "businesses.acme.sinks[1]: no recipients" in result.stderr


def test_schema_describes_plugins_and_their_settings():
    schema = config_schema(load_plugins(extra=[MemoryPlugin()]))
    sinks = schema["$defs"]["SinkChoice"]["oneOf"]
    names = {variant["properties"]["use"]["const"] for variant in sinks}
    assert {"email", "log", "sms", "memory"} <= names  # and the installed plugins' sinks
    email = next(v for v in sinks if v["properties"]["use"]["const"] == "email")
    assert email["additionalProperties"] is False
    assert "from" in email["properties"] and email["properties"]["port"]["maximum"] == 65535
    generic = schema["$defs"]["CallSourceChoice"]["oneOf"][0]
    assert {"$ref": "#/$defs/SecretRef"} in generic["properties"]["secret"]["anyOf"]
    json.dumps(schema)


def test_example_hub_yaml_is_valid():
    config = load_config(Path(__file__).parent.parent / "hub.yaml", load_plugins())
    assert config.businesses


def test_segments_count_gsm7_and_ucs2_correctly():
    from hub.segments import count_segments

    assert count_segments("a" * 160).count == 1 and count_segments("a" * 161).count == 2
    assert count_segments("a" * 306).count == 2 and count_segments("a" * 307).count == 3
    assert count_segments("{" * 80).units == 160  # extension characters take two septets
    emoji = count_segments("Thanks! 😀" + "a" * 61)  # 71 UTF-16 units: the emoji takes two
    assert (emoji.encoding, emoji.count, emoji.non_gsm) == ("UCS-2", 2, "😀")
    assert count_segments("é ñ ü à ¿").encoding == "GSM-7"  # in the GSM alphabet
    assert count_segments("á").encoding == "UCS-2"  # not in it


def test_hub_check_reports_template_errors_and_long_texts(tmp_path):
    body = valid_business(
        call_source={"use": "generic", "secret": "a-long-enough-secret"},
        sinks=[{"use": "log"}],
        templates={
            "text_back": "Hi from {{ busines.name }}",
            "nudge": "{% if %}",
            "follow_up": "Thanks so much for getting back to us! 😀 " * 3,
        },
    )
    path = write(tmp_path / "hub.yaml", {"businesses": {"acme": body}})
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 2
    assert (
        "error: businesses.acme.templates.text_back: unknown variable: 'busines' is undefined"
        in result.stderr
    )
    assert "error: businesses.acme.templates.nudge: syntax error on line 1" in result.stderr
    assert (
        "warning: businesses.acme.templates.follow_up: renders to 3 SMS segments" in result.stderr
    )
    assert "UCS-2 because of '😀'" in result.stderr


def test_the_shipped_templates_pass_the_check():
    config = load_config(Path(__file__).parent.parent / "hub.yaml", load_plugins())
    from hub.templating import Templates, check_templates

    business = next(iter(config.businesses.values()))
    assert check_templates(Templates(config), business) == []


def test_a_business_hours_replace_the_defaults_whole_and_mappings_merge(hub_dir):
    from hub.config import load_config
    from hub.plugins import load_plugins

    plain = {"sms_sender": {"use": "console"}, "sinks": []}
    acme = business(hours={"mon-sun": "closed"}, text_back={"delay": 60}, **plain)
    bolt = business("Bolt", ["+15125550200"], text_back={"delay": 30}, **plain)
    del bolt["hours"]
    config = load_config(
        write_config(
            hub_dir,
            {"acme": acme, "bolt": bolt},
            defaults={
                "hours": {"mon-fri": "08:00-17:00", "sat": "09:00-12:00"},
                "text_back": {"cooldown": 3600},
            },
        ),
        load_plugins(),
    )
    monday_noon = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
    acme_config, bolt_config = config.businesses["acme"], config.businesses["bolt"]
    assert not acme_config.is_open(monday_noon)  # closed all week: no Monday from the defaults
    assert acme_config.hours == {"mon-sun": "closed"}
    assert bolt_config.is_open(monday_noon)  # no hours of its own: the defaults'
    # mappings merge: the business's delay, the defaults' cooldown
    assert (acme_config.text_back.delay, acme_config.text_back.cooldown) == (60, 3600)
    assert (bolt_config.text_back.delay, bolt_config.text_back.cooldown) == (30, 3600)


def test_the_schema_says_which_settings_merge_and_which_replace():
    from hub.plugins import load_plugins
    from hub.schema import config_schema

    schema = config_schema(load_plugins())
    assert "merge key by key" in schema["properties"]["defaults"]["description"]
    hours = schema["$defs"]["Business"]["properties"]["hours"]["description"]
    assert "replace the defaults' hours whole" in hours
