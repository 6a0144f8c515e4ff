"""Plugin loading: each entry point on its own, failures recorded and shown, switches for CI."""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from hub.plugins import PluginError, load_plugins
from hub.providers import Kind
from hub.testing import run_cli

from .dists import make_distribution
from .processes import HubProcess

GOOD = """
from hub import hookimpl, Sink, DeliveryResult

class PagerSink(Sink):
    name = "pager"
    description = "Pages the owner"

    async def deliver(self, notification):
        return DeliveryResult.delivered("page-1")

@hookimpl
def hub_register_sinks(register):
    register(PagerSink)
"""
BROKEN = "import no_such_module_anywhere\n"
MISSPELLED = """
from hub import hookimpl

@hookimpl
def hub_register_sink(register):
    pass
"""
DUPLICATE = """
from hub import hookimpl, SmsSender, SendResult

class Impostor(SmsSender):
    name = "console"

    async def send(self, sms):
        return SendResult.sent("x")

@hookimpl
def hub_register_sms_senders(register):
    register(Impostor)
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "hub-pager", "hub_pager", GOOD)
    make_distribution(site, "hub-broken", "hub_broken", BROKEN)
    make_distribution(site, "hub-typo", "hub_typo", MISSPELLED)
    make_distribution(site, "hub-impostor", "hub_impostor", DUPLICATE)
    monkeypatch.syspath_prepend(str(site))
    return site


def entry_points(site: Path) -> list[metadata.EntryPoint]:
    return [
        ep
        for dist in metadata.distributions(path=[str(site)])
        for ep in dist.entry_points
        if ep.group == "hub"
    ]


def test_a_broken_plugin_is_recorded_and_the_rest_work(site):
    plugins = load_plugins(entry_points=entry_points(site), environ={})
    by_name = {info.name: info for info in plugins.infos}
    assert by_name["pager"].ok and by_name["pager"].distribution == "hub-pager"
    assert plugins.provider(Kind.SINK, "pager").name == "pager"
    assert "No module named 'no_such_module_anywhere'" in by_name["broken"].error
    assert (
        "hub_register_sink is not a hub hook (did you mean hub_register_sinks?)"
        in by_name["typo"].error
    )
    assert (
        "sms_sender 'console' is already registered by plugin 'console' (hub-core)"
        in by_name["impostor"].error
    )
    assert "hub-impostor" in by_name["impostor"].error
    # the defaults are untouched by the impostor
    assert plugins.provider(Kind.SMS_SENDER, "console").__module__ == "hub.defaults.console"
    assert {info.name for info in plugins.failed} == {"broken", "typo", "impostor"}


def test_strict_mode_makes_a_failure_fatal(site):
    with pytest.raises(PluginError, match="broken"):
        load_plugins(entry_points=entry_points(site), environ={"HUB_STRICT_PLUGINS": "1"})


def test_load_only_named_plugins_or_none(site):
    only = load_plugins(entry_points=entry_points(site), environ={"HUB_LOAD_PLUGINS": "hub-pager"})
    assert [info.name for info in only.infos if not info.default] == ["pager"]
    none = load_plugins(entry_points=entry_points(site), environ={"HUB_LOAD_PLUGINS": ""})
    assert all(info.default for info in none.infos)
    assert none.provider(Kind.SMS_SENDER, "console")


def test_unknown_provider_mentions_plugins_that_failed(site):
    plugins = load_plugins(entry_points=entry_points(site), environ={})
    with pytest.raises(LookupError) as caught:
        plugins.provider(Kind.SINK, "pagre")
    assert "did you mean 'pager'" in str(caught.value)
    assert "failed to load: broken, impostor, typo" in str(caught.value)


def hub_env(site: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        **extra,
    }
    env.pop("HUB_LOAD_PLUGINS", None)
    return env


def test_hub_plugins_json_lists_defaults_and_failures(site):
    # `site` is on sys.path: the in-process command finds its distributions' entry points.
    result = run_cli("plugins", "--json", env={"HUB_LOAD_PLUGINS": None})
    assert result.returncode == 0, result.stderr
    listed = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert listed["console"]["provides"] == [{"kind": "sms_sender", "name": "console"}]
    assert listed["generic"]["provides"] == [{"kind": "call_source", "name": "generic"}]
    assert {"kind": "sink", "name": "email"} in listed["email"]["provides"]
    assert listed["console"]["default"] is True and listed["console"]["status"] == "ok"
    assert listed["broken"]["status"] == "failed"
    assert listed["pager"]["status"] == "ok"

    strict = run_cli("plugins", env={"HUB_LOAD_PLUGINS": None, "HUB_STRICT_PLUGINS": "1"})
    assert strict.returncode != 0 and "broken" in strict.stderr and "Traceback" not in strict.stderr


def test_hub_serve_starts_despite_a_broken_plugin(site, tmp_path):
    from hub.testing import business, write_config

    config = write_config(
        tmp_path, {"acme": business(sms_sender={"use": "console"}, sinks=[{"use": "pager"}])}
    )
    server = HubProcess(config, hub_env(site))
    server.start()
    try:
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    finally:
        output = server.stop()
    assert "plugin 'broken' failed to load" in output
