"""The plugin API is what ``hub`` exports: plugins import nothing else of the hub, providers are
generic over their config, and a provider class missing its kind's method is refused."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import Field

import hub
from hub.plugins import PluginError, load_plugins

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"

#: What a plugin may import of the hub: the package itself and its shipped test kit.
ALLOWED = {"hub", "hub.testing"}


def plugin_modules() -> Iterator[Path]:
    for path in sorted(PLUGINS.rglob("*.py")):
        parts = set(path.relative_to(PLUGINS).parts)
        if not parts & {".venv", "build", "dist", "__pycache__"}:
            yield path


def hub_imports(path: Path) -> Iterator[tuple[int, str]]:
    """Each import of the hub in ``path`` that the plugin API does not allow, as
    ``(line, what)``: a module outside ``ALLOWED`` or a private or unexported name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):  # TYPE_CHECKING blocks and function-level imports too
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_hub(alias.name) and alias.name not in ALLOWED:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _is_hub(node.module):
                continue
            if node.module not in ALLOWED:
                yield node.lineno, node.module
                continue
            for alias in node.names:
                name = alias.name
                if name.startswith("_"):
                    yield node.lineno, f"{node.module}.{name}"
                elif (
                    node.module == "hub"
                    and name not in hub.__all__
                    and f"hub.{name}" not in ALLOWED  # from hub import testing
                ):
                    yield node.lineno, f"hub.{name}"


def _is_hub(module: str) -> bool:
    return module == "hub" or module.startswith("hub.")


def test_plugins_import_only_the_public_api():
    offences = []
    for path in plugin_modules():
        relative = path.relative_to(ROOT).as_posix()
        for line, what in hub_imports(path):
            offences.append(f"{relative}:{line}: imports {what}")
    assert not offences, "plugins may import only `hub` and `hub.testing`:\n" + "\n".join(offences)


def test_the_check_catches_private_reaches(tmp_path):
    module = tmp_path / "plugin.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import hub.core\n"
        "from hub import ProviderContext, _secret\n"
        "from hub.testing import business, _helper\n"
        "if TYPE_CHECKING:\n"
        "    from hub.db import Database\n"
        "def later():\n"
        "    from hub.phone import to_e164\n"
    )
    assert [what for _, what in hub_imports(module)] == [
        "hub.core",
        "hub._secret",
        "hub.testing._helper",
        "hub.db",
        "hub.phone",
    ]


def test_everything_exported_exists_and_the_packages_are_typed():
    for name in hub.__all__:
        assert hasattr(hub, name), name
    assert (ROOT / "hub" / "py.typed").exists()
    for package in ("twilio/hub_twilio", "vonage/hub_vonage", "sheets/hub_sheets"):
        assert (PLUGINS / package / "py.typed").exists()


# -- providers generic over their config ----------------------------------------------------------


class PagerConfig(hub.ProviderConfig):
    url: str = Field(description="Where pages go")


class PagerSink(hub.Sink[PagerConfig]):
    name = "pager"

    async def deliver(self, notification: hub.Notification) -> hub.DeliveryResult:
        return hub.DeliveryResult.delivered()


def test_the_config_model_is_the_type_argument():
    assert PagerSink.Config is PagerConfig

    class LoudPagerSink(PagerSink):  # a subclass keeps its parent's config
        name = "loud-pager"

    class Plain(hub.Sink):  # no type argument: no settings
        name = "plain"

        async def deliver(self, notification: hub.Notification) -> hub.DeliveryResult:
            return hub.DeliveryResult.delivered()

    assert LoudPagerSink.Config is PagerConfig
    assert Plain.Config is hub.ProviderConfig


class broken_plugin:
    class NoDeliverSink(hub.Sink[PagerConfig]):
        name = "no-deliver"

    class NoSendSender(hub.SmsSender):
        name = "no-send"

    @staticmethod
    @hub.hookimpl
    def hub_register_sinks(register):
        register(broken_plugin.NoDeliverSink)


class broken_sender_plugin:
    @staticmethod
    @hub.hookimpl
    def hub_register_sms_senders(register):
        register(broken_plugin.NoSendSender)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (
            broken_plugin,
            "plugin 'broken_plugin': NoDeliverSink does not implement deliver(), "
            "which every sink must",
        ),
        (
            broken_sender_plugin,
            "plugin 'broken_sender_plugin': NoSendSender does not implement send(), "
            "which every sms_sender must",
        ),
    ],
)
def test_a_provider_missing_its_method_is_refused_naming_the_plugin(plugin, message):
    with pytest.raises(PluginError) as caught:
        load_plugins(entry_points=[], extra=[plugin])
    assert message in str(caught.value)


def test_a_provider_missing_its_method_from_an_entry_point_is_recorded_as_failed(monkeypatch):
    class EntryPoint:
        name = "broken-pager"
        value = "broken_pager"
        dist = None

        def load(self):
            return broken_plugin

    plugins = load_plugins(entry_points=[EntryPoint()], environ={})
    (failed,) = plugins.failed
    assert failed.name == "broken-pager"
    assert "does not implement deliver()" in (failed.error or "")
    assert "no-deliver" not in plugins.providers[hub.Kind.SINK]


# -- the contexts ---------------------------------------------------------------------------------


async def test_plugin_state_is_kept_per_plugin_and_business_with_compare_and_set(hub_dir):
    from hub.testing import make_hub, write_config

    await plugin_state_round_trips(make_hub(write_config(hub_dir)))


async def test_plugin_state_on_postgres(hub_dir, postgres_url):
    from hub.testing import make_hub, write_config

    await plugin_state_round_trips(make_hub(write_config(hub_dir, database=postgres_url)))


async def plugin_state_round_trips(app) -> None:
    await app.start(worker=False, migrate=True)
    try:
        crm = hub.PluginState(app.plugin_host, "crm", "acme")
        assert await crm.get("contact:+15125550123") is None
        assert await crm.compare_and_set("contact:+15125550123", None, {"id": 7})
        assert not await crm.compare_and_set("contact:+15125550123", None, {"id": 8})
        assert not await crm.compare_and_set("contact:+15125550123", {"id": 9}, {"id": 8})
        assert await crm.compare_and_set("contact:+15125550123", {"id": 7}, {"id": 8})
        # None is absent both ways: setting None deletes, if the value is still the expected one.
        assert await crm.compare_and_set("mark", None, {"creating": "e1"})
        assert not await crm.compare_and_set("mark", {"creating": "e2"}, None)
        assert await crm.compare_and_set("mark", {"creating": "e1"}, None)
        assert await crm.get("mark") is None
        assert await crm.compare_and_set("mark", None, {"creating": "e3"})
        assert await crm.get("contact:+15125550123") == {"id": 8}
        # Another plugin, or the same plugin for another business, sees none of it.
        assert (
            await hub.PluginState(app.plugin_host, "sheets", "acme").get("contact:+15125550123")
            is None
        )
        assert (
            await hub.PluginState(app.plugin_host, "crm", "other").get("contact:+15125550123")
            is None
        )
        await crm.set("row", 12)
        await crm.set("row", 13)
        assert await crm.get("row") == 13
        assert await crm.delete("row") and not await crm.delete("row")
        assert await crm.get("row") is None
        # Any JSON value comes back as it went in: a string is a string, even one that
        # reads as a number or is not JSON itself.
        for value in ("Leads!A7:L7", "123", "", "null", '{"a"', True, 1.5, [1, "2"], {"id": "7"}):
            await crm.set("value", value)
            assert await crm.get("value") == value
        assert await crm.compare_and_set("value", {"id": "7"}, "done")
        assert await crm.compare_and_set("value", "done", "123")
        assert await crm.get("value") == "123"
        # None is "not set" on both sides: a compare-and-set to None deletes, if unchanged.
        assert not await crm.compare_and_set("value", "124", None)
        assert await crm.compare_and_set("value", "123", None)
        assert await crm.get("value") is None and not await crm.delete("value")
        assert await crm.compare_and_set("value", None, None)
        await crm.set("row", 14)
        await crm.set("row", None)
        assert await crm.get("row") is None and not await crm.delete("row")
        with pytest.raises(ValueError, match="1 to 255 characters"):
            await crm.set("x" * 256, 1)
    finally:
        await app.stop()


async def test_provider_and_job_contexts_offer_capabilities_not_the_hub(hub_dir):
    from hub.testing import MemorySender, make_hub, write_config

    app = make_hub(write_config(hub_dir))
    await app.start(worker=False)
    try:
        (sender,) = app.senders("acme")
        context = sender.context
        assert isinstance(context, hub.ProviderContext) and not hasattr(context, "hub")
        assert context.business.slug == "acme" and context.is_our_number("+15125550100")
        assert not context.is_our_number("+15125550199")
        assert context.webhook_url("sms").endswith("/hooks/acme/memory/sms")
        assert context.clock is app.clock
        await context.state.set("k", [1, 2])
        jobs = app.job_context("vonage_concat_flush")
        assert not hasattr(jobs, "hub")
        assert jobs.providers("acme", MemorySender) == [sender]
        assert jobs.providers("nobody", MemorySender) == []
        assert await jobs.state_for("acme").get("k") is None  # another plugin's state
        assert await hub.PluginState(app.plugin_host, context.plugin, "acme").get("k") == [1, 2]
        with pytest.raises(LookupError, match="no job kind 'vonage_concat_flsuh'"):
            await context.enqueue("vonage_concat_flsuh", {})
    finally:
        await app.stop()


async def test_lifecycle_hooks_get_a_hub_context(hub_dir):
    from hub.testing import make_hub, write_config

    seen: list[object] = []

    class lifecycle_plugin:
        @staticmethod
        @hub.hookimpl
        def hub_startup(context):
            seen.append(("startup", context, [b.slug for b in context.businesses]))

        @staticmethod
        @hub.hookimpl
        async def hub_shutdown(context):
            seen.append(("shutdown", context, context.clock))

    app = make_hub(write_config(hub_dir), extra_plugins=[lifecycle_plugin])
    await app.start(worker=False)
    await app.stop()
    (started, context, slugs), (stopped, later, clock) = seen
    assert (started, stopped) == ("startup", "shutdown")
    assert isinstance(context, hub.HubContext) and isinstance(later, hub.HubContext)
    assert slugs == ["acme"] and clock is app.clock
    assert not hasattr(context, "hub")


async def test_a_plugin_notes_on_its_own_businesss_leads_only(hub_dir):
    from hub.store.reads import LeadFilter
    from hub.testing import business, in_process_hub, write_config

    config = write_config(
        hub_dir, {"acme": business(), "bee": business("Bee Electric", ["+15125550200"])}
    )
    async with in_process_hub(config) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        [lead] = (await kit.hub.reads.leads(LeadFilter(business="acme"))).leads
        acme_sink, bee_sink = kit.hub.sinks("acme")[0], kit.hub.sinks("bee")[0]
        url = "https://app.hubspot.com/contacts/1/deal/99"
        assert await acme_sink.context.note_on_lead(lead.id, "deal 99 created", url=url)
        assert not await bee_sink.context.note_on_lead(lead.id, "not mine")
        timeline = (await kit.hub.reads.lead_detail(lead.id)).timeline
        notes = [(e.actor, e.detail) for e in timeline if e.kind == "note"]
        assert notes == [("memory", {"text": "deal 99 created", "url": url})]


async def test_a_plugin_moves_its_own_businesss_leads_only(hub_dir):
    from hub.store.reads import LeadFilter
    from hub.testing import business, in_process_hub, write_config

    config = write_config(
        hub_dir, {"acme": business(), "bee": business("Bee Electric", ["+15125550200"])}
    )
    async with in_process_hub(config) as kit:
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        [lead] = (await kit.hub.reads.leads(LeadFilter(business="acme"))).leads
        acme_sink, bee_sink = kit.hub.sinks("acme")[0], kit.hub.sinks("bee")[0]
        assert not await bee_sink.context.set_lead_status(lead.id, "booked")
        assert (await kit.recorded.lead()).status == "new"
        with pytest.raises(ValueError, match="unknown lead status 'won'"):
            await acme_sink.context.set_lead_status(lead.id, "won")
        assert await acme_sink.context.set_lead_status(lead.id, "booked")
        assert not await acme_sink.context.set_lead_status(lead.id, "booked")  # already
        await kit.run_due_jobs()
        assert (await kit.recorded.lead()).status == "booked"
        timeline = (await kit.hub.reads.lead_detail(lead.id)).timeline
        moves = [e.actor for e in timeline if e.kind == "status"]
    assert moves == ["memory"]
