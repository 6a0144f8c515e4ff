"""The plugin's settings as a hub.yaml author meets them: through ``hub check``."""

from __future__ import annotations

import pytest
import yaml
from hub_vonage.config import VonageAccount, VonageCallConfig, VonageSenderConfig
from hub_vonage.testing import private_key_pem, vonage_business

from hub.testing import config_issues, make_hub, modules_loaded_by, run_cli, write_config

SECRET_VALUE = "s3cr3t-value-that-must-not-leak"


def business(**overrides):
    overrides.setdefault("sinks", [{"use": "log"}])  # installed plugins only, as `hub check` sees
    return vonage_business(**overrides)


def issues_for(hub_dir, **business_overrides) -> dict[str, str]:
    path = write_config(hub_dir, {"acme": business(**business_overrides)})
    issues = config_issues(path)
    assert issues, "the configuration loads"
    return dict(issues)


def test_a_working_configuration_loads(hub_dir):
    path = write_config(hub_dir, {"acme": business()})
    assert config_issues(path) == []
    sender = make_hub(path).senders("acme")[0].config
    assert isinstance(sender, VonageSenderConfig)
    assert sender.signature_method == "sha256" and sender.api == "sms"
    assert sender.api_host == "api.nexmo.com" and sender.rest_host == "rest.nexmo.com"


def test_the_sms_api_needs_its_credentials(hub_dir):
    issues = issues_for(hub_dir, sender={"api_key": None, "api_secret": None})
    assert issues == {
        "businesses.acme.sms_sender.api_key": "the SMS API needs the account's api_key",
        "businesses.acme.sms_sender.api_secret": (
            "the SMS API needs api_secret (or sign_requests with signature_secret)"
        ),
    }


def test_the_messages_api_needs_an_application(hub_dir):
    issues = issues_for(hub_dir, sender={"api": "messages"})
    assert set(issues) == {
        "businesses.acme.sms_sender.application_id",
        "businesses.acme.sms_sender.private_key",
    }
    assert "Vonage application" in issues["businesses.acme.sms_sender.private_key"]


def test_application_id_and_private_key_go_together(hub_dir):
    issues = issues_for(hub_dir, call={"application_id": "app-1"})
    assert issues == {
        "businesses.acme.call_source.private_key": (
            "application_id and private_key go together: set both or neither"
        )
    }


def test_bad_values_are_named_with_their_path_and_never_echo_secrets(hub_dir):
    issues = issues_for(
        hub_dir,
        sender={
            "signature_method": "sha384",
            "private_key": SECRET_VALUE,
            "application_id": "app-1",
            "from": "+not a number",
            "rest_host": "ftp://rest.nexmo.com/sms",
            "api_secret": SECRET_VALUE,
            "colour": "blue",
        },
    )
    prefix = "businesses.acme.sms_sender."
    assert "'md5hash', 'md5', 'sha1', 'sha256' or 'sha512'" in issues[prefix + "signature_method"]
    assert "PEM" in issues[prefix + "private_key"]
    assert "sender id" in issues[prefix + "from"]
    assert "host" in issues[prefix + "rest_host"]
    assert issues[prefix + "colour"] == "unknown setting"
    assert SECRET_VALUE not in repr(issues)


def test_a_call_setting_on_the_sender_and_a_sending_setting_on_the_call_source_are_refused(
    hub_dir,
):
    issues = issues_for(hub_dir, sender={"ring_timeout": 20}, call={"from": "AcmePlumb"})
    assert issues == {
        "businesses.acme.sms_sender.ring_timeout": "unknown setting",
        "businesses.acme.call_source.from": "unknown setting",
    }


def test_the_account_keys_serve_both_sides():
    account = {"api_key": "abcd1234", "api_secret": "secret", "signature_secret": "x" * 32}
    assert VonageCallConfig.model_validate(account).api_key == "abcd1234"
    assert VonageSenderConfig.model_validate(account).api_key == "abcd1234"
    with pytest.raises(ValueError, match="screening"):
        VonageSenderConfig.model_validate({**account, "screening": True})


def test_secrets_stay_out_of_reprs():
    config = VonageAccount.model_validate(
        {
            "api_key": "abcd1234",
            "api_secret": SECRET_VALUE,
            "signature_secret": SECRET_VALUE,
            "application_id": "app",
            "private_key": private_key_pem(),
        }
    )
    text = repr(config) + str(config)
    assert SECRET_VALUE not in text and "PRIVATE KEY" not in text


def test_sender_ids_and_hosts_are_normalized():
    credentials = {"api_key": "abcd1234", "api_secret": "secret"}
    config = VonageSenderConfig.model_validate(
        {
            **credentials,
            "from": "+1 (512) 555-0100",
            "api_host": "http://127.0.0.1:8089/",
            "rest_host": "https://rest.example",
        }
    )
    assert config.from_ == "15125550100"
    assert config.api_host == "http://127.0.0.1:8089" and config.rest_host == "https://rest.example"
    assert (
        VonageSenderConfig.model_validate({**credentials, "from": "AcmePlumb"}).from_ == "AcmePlumb"
    )


def test_a_private_key_from_an_environment_variable_with_escaped_newlines():
    escaped = private_key_pem().replace("\n", "\\n")
    config = VonageAccount.model_validate({"application_id": "app", "private_key": escaped})
    assert config.private_key is not None
    assert config.private_key.get_secret_value() == private_key_pem()


def test_hub_check_reports_forward_mode_without_an_owner_number(hub_dir):
    settings = business(forward_to=None)
    path = write_config(hub_dir, {"acme": settings})
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 2
    assert (
        "businesses.acme.call_source: mode `forward` rings the business's `forward_to`"
        in result.output
    )
    settings["call_source"]["mode"] = "catch"
    path.write_text(
        yaml.safe_dump({"database": "sqlite://hub.sqlite3", "businesses": {"acme": settings}})
    )
    assert run_cli("check", "--config", str(path)).returncode == 0


def test_hub_check_reports_a_private_key_that_cannot_sign(hub_dir):
    broken = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"
    settings = business(api="messages", sender={"private_key": broken})
    path = write_config(hub_dir, {"acme": settings})
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 2
    assert (
        "businesses.acme.sms_sender: private_key: cannot sign an application JWT" in result.output
    )
    assert "bm90IGEga2V5" not in result.output


def test_hub_check_never_loads_the_sdk(hub_dir):
    """`hub check` stays quick: the SDK's clients and NCCO models wait for a running hub."""
    path = write_config(hub_dir, {"acme": business()})
    sdk = ["vonage", "vonage_http_client", "vonage_sms", "vonage_messages", "vonage_voice"]
    loaded = modules_loaded_by(["check", "--config", str(path)], ["hub_vonage", *sdk])
    assert loaded == ["hub_vonage"]
