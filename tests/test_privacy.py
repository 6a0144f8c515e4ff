"""`hub contacts export|forget`: a person's data out, or erased but for their opt-out."""

from __future__ import annotations

import asyncio
import json

import pytest

from hub.models import Call, Contact, Delivery, Lead, LeadEvent, Message, OptOut
from hub.testing import (
    CliResult,
    business,
    in_process_hub,
    run_cli,
    throwaway_postgres,
    write_config,
)

BETA_SECRET = "beta-secret-9876543210"
ALICE, BOB = "+15125550123", "+15125550177"


@pytest.fixture(params=["sqlite", "postgres"], autouse=True)
def database(request, hub_dir):
    """Every test on both backends: the database URL is kept beside the config it writes."""
    if request.param == "sqlite":
        url = "sqlite://hub.sqlite3"
        (hub_dir / "database-url").write_text(url)
        yield url
        return
    with throwaway_postgres() as url:
        (hub_dir / "database-url").write_text(url)
        migrated = run_cli("migrate", "--config", str(cli_config(hub_dir)))
        assert migrated.returncode == 0, migrated.stderr
        yield url


def config(hub_dir, **settings):
    beta = business("Beta Electric", ["+15125550200"], secret=BETA_SECRET, **settings)
    url = (hub_dir / "database-url").read_text()
    return write_config(hub_dir, {"acme": business(**settings), "beta": beta}, database=url)


def cli_config(hub_dir):
    """The same database for the `hub` command, which loads installed plugins only."""
    return config(hub_dir, sms_sender={"use": "console"}, sinks=[{"use": "log"}])


async def cli(hub_dir, *args: str) -> CliResult:
    path = str(cli_config(hub_dir))
    return await asyncio.to_thread(run_cli, *args, "--config", path)  # its own event loop


async def two_callers_two_businesses(hub_dir) -> None:
    """Alice calls and writes to acme and to beta; Bob calls and writes to acme."""
    async with in_process_hub(config(hub_dir)) as kit:
        await kit.post_call(caller=ALICE)
        await kit.post_call(caller=BOB)
        await kit.post_call("beta", secret=BETA_SECRET, caller=ALICE, to="+15125550200")
        await kit.run_due_jobs()
        await kit.text_in("my water heater leaks", caller=ALICE)
        await kit.text_in("bob here, a clogged drain", caller=BOB)
        await kit.text_in("alice at beta: sparks", caller=ALICE, to="+15125550200", business="beta")
        await kit.run_due_jobs()
        acme = kit.hub.providers["acme"].call_source.context
        assert await acme.mark(f"seen:{ALICE}") and await acme.mark(f"seen:{BOB}")


async def test_export_is_one_persons_data_per_business(hub_dir):
    await two_callers_two_businesses(hub_dir)
    result = await cli(hub_dir, "contacts", "export", "(512) 555-0123", "--business", "acme")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["phone"] == ALICE
    [acme] = document["businesses"]
    assert acme["business"] == "acme" and acme["contact"]["phone"] == ALICE
    assert acme["opt_out"] is None
    [lead] = acme["leads"]
    assert lead["phone"] == ALICE
    bodies = [m["body"] for m in acme["messages"]]
    assert "my water heater leaks" in bodies
    assert any(m["direction"] == "out" and m["purpose"] == "text_back" for m in acme["messages"])
    assert [c["caller"] for c in acme["calls"]] == [ALICE]
    assert acme["timeline"] and {e["lead_id"] for e in acme["timeline"]} == {lead["id"]}
    assert acme["deliveries"] and all(d["status"] for d in acme["deliveries"])
    assert all("payload" not in d and "error" not in d for d in acme["deliveries"])
    assert "bob" not in result.stdout and BOB not in result.stdout
    assert "sparks" not in result.stdout  # beta's, not asked for

    everywhere = json.loads((await cli(hub_dir, "contacts", "export", ALICE)).stdout)
    assert [b["business"] for b in everywhere["businesses"]] == ["acme", "beta"]
    assert "alice at beta: sparks" in [m["body"] for m in everywhere["businesses"][1]["messages"]]


async def test_forget_erases_a_person_but_keeps_their_opt_out(hub_dir):
    await two_callers_two_businesses(hub_dir)
    async with in_process_hub(config(hub_dir)) as kit:
        await kit.text_in("STOP", caller=ALICE)
        await kit.run_due_jobs()
        lead_ids = [lead.id for lead in await Lead.filter(business="acme", phone=ALICE)]
        assert await OptOut.exists(business="acme", phone=ALICE, active=True)

    result = await cli(hub_dir, "contacts", "forget", "512-555-0123", "-b", "acme", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme: removed ") and "1 leads" in result.stdout

    async with in_process_hub(config(hub_dir)) as kit:
        assert not await Message.exists(business="acme", phone=ALICE)
        assert not await Message.exists(lead_id__in=lead_ids)
        assert not await Call.exists(business="acme", caller=ALICE)
        assert not await Lead.exists(business="acme", phone=ALICE)
        assert not await Contact.exists(business="acme", phone=ALICE)
        assert not await LeadEvent.exists(lead_id__in=lead_ids)
        assert not await Delivery.exists(lead_id__in=lead_ids)
        acme = kit.hub.providers["acme"].call_source.context
        assert not await acme.is_marked(f"seen:{ALICE}") and await acme.is_marked(f"seen:{BOB}")
        # Bob, and Alice at beta, are untouched.
        assert await Message.exists(business="acme", phone=BOB, body="bob here, a clogged drain")
        assert await Lead.exists(business="beta", phone=ALICE)
        assert await Message.exists(business="beta", phone=ALICE)
        # The opt-out stays, and keeps working: a new missed call gets no text-back.
        assert await OptOut.exists(business="acme", phone=ALICE, active=True)
        kit.outbox.texts.clear()
        await kit.post_call(caller=ALICE)
        await kit.run_due_jobs()
        assert [sms.to for sms in kit.outbox.texts if sms.to == ALICE] == []
        [call] = await Call.filter(business="acme", caller=ALICE)
        assert call.skipped_reason == "opted_out"


async def test_forget_without_business_is_every_business_and_asks_first(hub_dir):
    await two_callers_two_businesses(hub_dir)
    asked = await cli(hub_dir, "contacts", "forget", ALICE)  # no answer: nothing is erased
    assert asked.returncode == 1 and "every business" in asked.stdout
    async with in_process_hub(config(hub_dir)):
        assert await Lead.filter(phone=ALICE).count() == 2

    result = await cli(hub_dir, "contacts", "forget", ALICE, "--yes")
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["acme", "beta"]
    async with in_process_hub(config(hub_dir)):
        assert not await Lead.exists(phone=ALICE)
        assert not await Message.exists(phone=ALICE)
        assert await Lead.exists(phone=BOB)
    again = await cli(hub_dir, "contacts", "forget", ALICE, "--yes")
    assert again.stdout.strip() == f"nothing held about {ALICE}"


async def test_an_unknown_business_or_number_is_a_one_line_error(hub_dir):
    await two_callers_two_businesses(hub_dir)
    unknown = await cli(hub_dir, "contacts", "export", ALICE, "--business", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "Error: no business 'nope' in the config (known: acme, beta)"
    garbage = await cli(hub_dir, "contacts", "forget", "not-a-number", "--yes")
    assert garbage.returncode == 2 and "not a phone number" in garbage.stderr
