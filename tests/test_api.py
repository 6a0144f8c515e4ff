"""The JSON API (/api/v1) through plain HTTP on an in-process hub: tokens from `hub tokens`,
scoped to businesses; the inbox's filters and cursor pages; status and field changes that
sinks hear; replies through the one send path; one error shape; the OpenAPI document."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from hub.events import EventKind
from hub.store import tokens
from hub.testing import business, in_process_hub, run_cli, write_config

MIRROR = ["lead.created", "lead.updated", "lead.status_changed", "notify.new_lead"]


@pytest.fixture
def config(hub_dir: Path) -> Path:
    return write_config(
        hub_dir,
        {
            "acme": business(
                numbers=["+15125550100", {"number": "+15125550101", "source": "Google Ads"}],
                sinks=[{"use": "memory", "on": MIRROR}],
            ),
            "bolt": business("Bolt Electric", ["+15125550200"]),
        },
    )


def cli_config(config: Path) -> Path:
    """The same businesses and database for the `hub` command, which has no `memory` plugin."""
    data = yaml.safe_load(config.read_text())
    plain = {"sms_sender": {"use": "console"}, "sinks": [{"use": "log"}]}
    businesses = {slug: {**body, **plain} for slug, body in data.pop("businesses").items()}
    path = config.with_name("cli.yaml")
    path.write_text(yaml.safe_dump({**data, "businesses": businesses}))
    return path


async def create_token(config: Path, *businesses: str, name: str = "zapier") -> str:
    args = ["tokens", "create", "--config", str(cli_config(config)), "--name", name]
    for slug in businesses:
        args += ["--business", slug]
    result = await asyncio.to_thread(run_cli, *args)  # the command runs its own event loop
    assert result.returncode == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(kit, caller: str, *, business: str = "acme", to: str | None = None) -> int:
    fields = {
        "caller": caller,
        "to": to or ("+15125550100" if business == "acme" else "+15125550200"),
    }
    response = await kit.post_call(business, **fields)
    assert response.status_code == 200, response.text
    return int(response.json()["lead_id"])


async def test_a_token_is_printed_once_and_stored_as_its_hash(config, hub_dir):
    token = await create_token(config, "acme", name="zapier")
    assert token.startswith(tokens.PREFIX) and len(token) > 40
    with sqlite3.connect(hub_dir / "hub.sqlite3") as db:
        rows = db.execute("SELECT name, token_hash, businesses FROM hub_api_token").fetchall()
    assert rows == [("zapier", hashlib.sha256(token.encode()).hexdigest(), '["acme"]')]
    assert token.encode() not in (hub_dir / "hub.sqlite3").read_bytes()
    config = cli_config(config)
    listed = await asyncio.to_thread(run_cli, "tokens", "list", "--config", str(config))
    assert "zapier" in listed.stdout and "active" in listed.stdout and token not in listed.output
    revoked = await asyncio.to_thread(run_cli, "tokens", "revoke", "1", "--config", str(config))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    again = await asyncio.to_thread(run_cli, "tokens", "revoke", "1", "--config", str(config))
    assert again.returncode == 1 and "no active token 1" in again.output
    unknown = await asyncio.to_thread(
        run_cli, "tokens", "create", "--config", str(config), "--name", "x", "--business", "nope"
    )
    assert unknown.returncode == 1 and "no business 'nope'" in unknown.output


async def test_no_token_or_a_revoked_one_is_401_in_the_one_error_shape(config):
    token = await create_token(config, "acme")
    async with in_process_hub(config) as kit:
        lead_id = await call(kit, "+15125550123")
        missing = await kit.client.get("/api/v1/leads")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert missing.json() == {
            "error": {
                "status": 401,
                "code": "unauthorized",
                "message": "send the token as Authorization: Bearer TOKEN",
            }
        }
        wrong = await kit.client.get("/api/v1/leads", headers=bearer(token[:-2] + "xx"))
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        ok = await kit.client.get(f"/api/v1/leads/{lead_id}", headers=bearer(token))
        assert ok.status_code == 200
        [live] = await tokens.all_tokens()
        assert await tokens.revoke(live.id, at=kit.clock.now())
        revoked = await kit.client.get(f"/api/v1/leads/{lead_id}", headers=bearer(token))
        assert revoked.status_code == 401
        assert revoked.json()["error"]["message"] == "unknown or revoked token"
        assert token not in revoked.text


async def test_a_token_sees_only_its_businesses_by_id_filter_or_guess(config):
    token = await create_token(config, "acme")
    async with in_process_hub(config) as kit:
        ours = await call(kit, "+15125550123")
        theirs = await call(kit, "+15125550124", business="bolt")
        headers = bearer(token)
        listed = await kit.client.get("/api/v1/leads", headers=headers)
        assert [lead["id"] for lead in listed.json()["leads"]] == [ours]
        for path in (f"/api/v1/leads/{theirs}", "/api/v1/leads/999"):
            for method, body in (("GET", None), ("PATCH", {"status": "booked"})):
                response = await kit.client.request(method, path, headers=headers, json=body)
                assert response.status_code == 404, (method, path)
                assert response.json()["error"]["code"] == "not_found"
            sent = await kit.client.post(f"{path}/messages", headers=headers, json={"text": "hi"})
            assert sent.status_code == 404
        # A guess and a lead of another business read the same.
        a = await kit.client.get(f"/api/v1/leads/{theirs}", headers=headers)
        b = await kit.client.get("/api/v1/leads/999", headers=headers)
        assert a.json()["error"]["code"] == b.json()["error"]["code"]
        other = await kit.client.get("/api/v1/leads?business=bolt", headers=headers)
        assert other.status_code == 404
        await kit.run_due_jobs()
        assert [t.to for t in kit.outbox.texts] == ["+15125550123", "+15125550124"]


async def test_the_list_filters_and_pages_with_a_cursor(config):
    token = await create_token(config, "acme", "bolt")
    async with in_process_hub(config) as kit:
        headers = bearer(token)
        ids = []
        for index in range(5):
            ids.append(await call(kit, f"+1512555013{index}"))  # one moment: ties go by id
        from_ads = await call(kit, "+15125550140", to="+15125550101")
        bolt = await call(kit, "+15125550141", business="bolt")
        await kit.text_in("burst pipe, basement is flooding", caller="+15125550140")
        await kit.run_due_jobs()

        seen, cursor = [], None
        while True:
            query = "/api/v1/leads?business=acme&limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = (await kit.client.get(query, headers=headers)).json()
            assert len(page["leads"]) <= 2
            seen += [lead["id"] for lead in page["leads"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted([*ids, from_ads]) and len(seen) == len(set(seen))
        assert seen[0] == from_ads  # most recently active first

        async def ids_for(query: str) -> list[int]:
            response = await kit.client.get(f"/api/v1/leads?{query}", headers=headers)
            assert response.status_code == 200, response.text
            return [lead["id"] for lead in response.json()["leads"]]

        assert await ids_for("source=Google%20Ads") == [from_ads]
        assert await ids_for("urgency=emergency") == [from_ads]
        assert await ids_for("q=0140") == [from_ads]
        assert await ids_for("business=bolt") == [bolt]
        assert set(await ids_for("status=new")) == {*ids, from_ads, bolt}
        assert await ids_for("status=booked") == []
        everything = await ids_for("limit=50")
        assert set(everything) == {*ids, from_ads, bolt}
        hour = timedelta(hours=1)
        later, earlier = (f"{kit.clock.now() + d:%Y-%m-%dT%H:%M:%SZ}" for d in (hour, -hour))
        assert await ids_for(f"since={later}") == []
        assert set(await ids_for(f"since={earlier}&until={later}")) == set(everything)
        assert await ids_for("until=2000-01-01") == []
        lead = (await kit.client.get(f"/api/v1/leads/{from_ads}", headers=headers)).json()
        assert lead["source"] == "Google Ads" and lead["urgency"] == "emergency"
        assert lead["customer_words"] == ["burst pipe, basement is flooding"]
        assert ("in", "burst pipe, basement is flooding") in [
            (m["direction"], m["body"]) for m in lead["messages"]
        ]
        assert [call["called"] for call in lead["calls"]] == ["+15125550101"]

        for bad in (
            "status=lost",
            "limit=0",
            "limit=x",
            "since=yesterday",
            "cursor=@@",
            "colour=red",
        ):
            response = await kit.client.get(f"/api/v1/leads?{bad}", headers=headers)
            assert response.status_code == 422, bad
            assert response.json()["error"]["code"] == "invalid"


async def test_patch_changes_status_and_fields_and_sinks_hear_it(config):
    token = await create_token(config, "acme", name="crm-sync")
    async with in_process_hub(config) as kit:
        lead_id = await call(kit, "+15125550123")
        await kit.run_due_jobs()
        kit.outbox.events.clear()
        response = await kit.client.patch(
            f"/api/v1/leads/{lead_id}",
            headers=bearer(token),
            json={"status": "booked", "name": "Dana", "service": "water heater"},
        )
        assert response.status_code == 200, response.text
        lead = response.json()
        assert (lead["status"], lead["name"], lead["service"]) == ("booked", "Dana", "water heater")
        await kit.run_due_jobs()
        changes = {event.kind: event for event in kit.outbox.events}
        status = changes[EventKind.LEAD_STATUS_CHANGED]
        assert status.actor == "api:crm-sync"
        assert (status.changes["status"].before, status.changes["status"].after) == (
            "new",
            "booked",
        )
        assert changes[EventKind.LEAD_UPDATED].changes["name"].after == "Dana"
        detail = (await kit.client.get(f"/api/v1/leads/{lead_id}", headers=bearer(token))).json()
        assert {"actor": "api:crm-sync", "kind": "status"} in [
            {"actor": e["actor"], "kind": e["kind"]} for e in detail["timeline"]
        ]
        for body in ({"status": "lost"}, {"colour": "red"}, {"status": None}, [1]):
            bad = await kit.client.patch(
                f"/api/v1/leads/{lead_id}", headers=bearer(token), json=body
            )
            assert bad.status_code == 422, body
        not_json = await kit.client.patch(
            f"/api/v1/leads/{lead_id}",
            headers={**bearer(token), "Content-Type": "application/json"},
            content=b"{nope",
        )
        assert not_json.status_code == 422
        huge = await kit.client.patch(
            f"/api/v1/leads/{lead_id}",
            headers={**bearer(token), "Content-Type": "application/json"},
            content=b'{"name": "' + b"x" * 70_000 + b'"}',
        )
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"


async def test_a_reply_goes_through_the_send_path_and_an_opted_out_customer_is_refused(config):
    token = await create_token(config, "acme")
    async with in_process_hub(config) as kit:
        lead_id = await call(kit, "+15125550123")
        await kit.run_due_jobs()
        kit.outbox.texts.clear()
        path = f"/api/v1/leads/{lead_id}/messages"
        sent = await kit.client.post(path, headers=bearer(token), json={"text": "We can come at 3"})
        assert sent.status_code == 202, sent.text
        assert sent.json() == {"status": "queued", "held_until": None}
        await kit.run_due_jobs()
        assert [(t.to, t.body) for t in kit.outbox.texts] == [("+15125550123", "We can come at 3")]

        await kit.text_in("STOP")
        await kit.run_due_jobs()
        kit.outbox.texts.clear()
        refused = await kit.client.post(path, headers=bearer(token), json={"text": "Still there?"})
        assert refused.status_code == 409
        assert refused.json()["error"] == {
            "status": 409,
            "code": "refused",
            "message": "not sent: they opted out of texts",
        }
        await kit.run_due_jobs()
        assert kit.outbox.texts == []
        empty = await kit.client.post(path, headers=bearer(token), json={"text": ""})
        assert empty.status_code == 422


async def test_requests_beyond_the_tokens_rate_are_429(hub_dir):
    config = write_config(hub_dir, {"acme": business()}, api={"requests_per_minute": 3})
    token = await create_token(config, "acme")
    async with in_process_hub(config) as kit:
        statuses = [
            (await kit.client.get("/api/v1/leads", headers=bearer(token))).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await kit.client.get("/api/v1/leads", headers=bearer(token))
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        await kit.advance(minutes=1)
        assert (await kit.client.get("/api/v1/leads", headers=bearer(token))).status_code == 200


async def test_the_openapi_document_covers_every_route(config):
    from starlette.routing import Mount, Route

    async with in_process_hub(config) as kit:
        response = await kit.client.get("/api/v1/openapi.json")
        assert response.status_code == 200
        document = response.json()
        assert document["openapi"] == "3.1.0"
        assert document["servers"] == [{"url": "http://hub.test/api/v1"}]
        from hub.web import create_app

        [mount] = [
            r for r in create_app(kit.hub).routes if isinstance(r, Mount) and r.path == "/api/v1"
        ]
        routes = {
            (route.path.replace(":int", ""), method.lower())
            for route in mount.routes
            if isinstance(route, Route)
            for method in route.methods or ()
            if method != "HEAD"
        }
        documented = {
            (path, method)
            for path, item in document["paths"].items()
            for method in item
            if method != "parameters"
        }
        assert routes == documented
        schemas = document["components"]["schemas"]
        refs = {ref.rsplit("/", 1)[1] for ref in _refs(document["paths"])}
        assert refs <= set(schemas)
        assert "source" in schemas["Lead"]["properties"]
        unknown = await kit.client.get("/api/v1/nothing-here")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
