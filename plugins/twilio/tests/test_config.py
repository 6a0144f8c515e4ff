"""`hub check` on Twilio settings: every problem with its path, in words that say what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub_twilio.testing import DEFAULT_ACCOUNT_SID, twilio_business

from hub.testing import modules_loaded_by, run_cli, write_config

TOKEN = "feedfacefeedfacefeedfacefeedface"


def check(directory: Path, acme: dict[str, Any], monkeypatch) -> tuple[int, str]:
    monkeypatch.setenv("ACME_TWILIO_TOKEN", TOKEN)
    acme = {**acme, "sinks": [{"use": "log"}]}
    path = write_config(directory, {"acme": acme})
    result = run_cli("check", "--config", str(path))
    return result.returncode, result.output


def test_a_complete_twilio_setup_passes(hub_dir, monkeypatch):
    acme = twilio_business()
    acme["call_source"]["auth_token"] = acme["sms_sender"]["auth_token"] = {
        "$env": "ACME_TWILIO_TOKEN"
    }
    code, output = check(hub_dir, acme, monkeypatch)
    assert code == 0, output
    assert "OK (1 business)" in output


def test_missing_settings_are_named_with_what_to_put_there(hub_dir, monkeypatch):
    acme = twilio_business()
    acme["call_source"] = {"use": "twilio", "auth_token": {"$env": "ACME_TWILIO_TOKEN"}}
    acme["sms_sender"] = {
        "use": "twilio",
        "account_sid": "SK" + "0" * 32,
        "auth_token": {"$env": "ACME_TWILIO_TOKEN"},
    }
    code, output = check(hub_dir, acme, monkeypatch)
    assert code == 2
    lines = output.splitlines()

    def line(path: str) -> str:
        found = [text for text in lines if f"businesses.acme.{path}:" in text]
        assert found, f"no error for {path} in:\n{output}"
        return found[0]

    assert "Account SID" in line("call_source.account_sid")
    assert "`forward`" in line("call_source.mode") and "`catch`" in line("call_source.mode")
    assert "API key SID" in line("sms_sender.account_sid")
    assert "`from`" in line("sms_sender.messaging_service_sid")
    assert TOKEN not in output


def test_settings_that_contradict_each_other(hub_dir, monkeypatch):
    acme = twilio_business(
        None,
        "catch",
        call_options={"screening": True, "machine_detection": True},
        sender_options={"messaging_service_sid": "MG" + "1" * 32},
    )
    code, output = check(hub_dir, acme, monkeypatch)
    assert code == 2
    assert "call_source.screening: only applies to mode: forward" in output
    assert "call_source.machine_detection: only applies to mode: forward" in output
    assert (
        "sms_sender.messaging_service_sid: set `from` or `messaging_service_sid`, not both"
        in output
    )


def test_problems_that_depend_on_the_business(hub_dir, monkeypatch):
    acme = twilio_business(forward_to=None, sender_options={"from": "+15125550155"})
    code, output = check(hub_dir, acme, monkeypatch)
    assert code == 2
    assert "call_source: mode forward rings the owner at the business's forward_to" in output
    assert "sms_sender: from +15125550155 is not one of the business's numbers" in output

    looped = twilio_business(forward_to="+15125550100")
    code, output = check(hub_dir, looped, monkeypatch)
    assert code == 2
    assert "ring straight back into the hub" in output


async def test_the_auth_token_never_shows(hub_dir, monkeypatch):
    from hub.testing import make_hub

    acme = twilio_business()
    acme["call_source"]["auth_token"] = {"$env": "ACME_TWILIO_TOKEN"}
    acme["sms_sender"]["auth_token"] = {"$env": "ACME_TWILIO_TOKEN"}
    acme["sms_sender"]["timeout"] = -1
    code, output = check(hub_dir, acme, monkeypatch)
    assert code == 2 and "sms_sender.timeout" in output and TOKEN not in output

    del acme["sms_sender"]["timeout"]
    hub = make_hub(write_config(hub_dir, {"acme": acme}))
    await hub.start(worker=False)  # the sender's API client exists once started
    try:
        source, sender = hub.providers["acme"].call_source, hub.senders("acme")[0]
        shown = [source, sender, source.config, sender.config, vars(source), vars(sender)]
        assert sender.rest is not None
        assert all(TOKEN not in repr(item) for item in shown)
        assert DEFAULT_ACCOUNT_SID in repr(sender.config)
    finally:
        await hub.stop()


def test_hub_check_never_loads_the_sdks_http_stack(hub_dir, monkeypatch):
    """`hub check` stays quick: the REST client (aiohttp, twilio.rest) waits for a running hub."""
    monkeypatch.setenv("ACME_TWILIO_TOKEN", TOKEN)
    acme = twilio_business()
    acme["call_source"]["auth_token"] = acme["sms_sender"]["auth_token"] = {
        "$env": "ACME_TWILIO_TOKEN"
    }
    path = write_config(hub_dir, {"acme": {**acme, "sinks": [{"use": "log"}]}})
    sdk = ["aiohttp", "twilio.rest", "twilio.http.async_http_client"]
    assert modules_loaded_by(["check", "--config", str(path)], ["hub_twilio", *sdk]) == [
        "hub_twilio"
    ]
