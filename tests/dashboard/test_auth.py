"""Sign-in, sessions, roles, CSRF and the headers every dashboard page carries."""

from __future__ import annotations

import logging

import httpx
import pytest

from hub.store import users
from hub.testing import in_process_hub

from .helpers import PASSWORD, add_users, csrf_of, sign_in, token, two_businesses


@pytest.fixture
async def kit(hub_dir):
    async with in_process_hub(two_businesses(hub_dir)) as kit:
        await add_users()
        yield kit


def client_of(kit, address: str = "203.0.113.7") -> httpx.AsyncClient:
    """A browser of its own (its own cookies), from ``address``."""
    app = kit.client._transport.app  # the same ASGI app, another cookie jar
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 5000)), base_url=kit.url
    )


async def test_pages_need_sign_in_and_webhooks_do_not(kit):
    for path in ("/", "/leads/1", "/analytics", "/setup", "/leads.csv"):
        response = await kit.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert (await kit.client.get("/healthz")).json() == {"status": "ok"}
    assert (await kit.post_call(id="c1")).status_code == 200


async def test_sign_in_sets_a_safe_cookie_and_signs_out(kit):
    response = await sign_in(kit.client, "Admin@Example.com")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # public_url is http here
    assert (await kit.client.get("/")).status_code == 200
    await kit.client.post("/logout", data={"csrf_token": await csrf_of(kit.client, "/")})
    assert (await kit.client.get("/")).status_code == 303


async def test_the_cookie_is_secure_when_the_hub_is_public_over_https(hub_dir):
    async with in_process_hub(two_businesses(hub_dir), public_url="https://hub.test") as kit:
        await add_users()
        response = await sign_in(kit.client, "admin@example.com")
        assert "secure" in response.headers["set-cookie"].lower()


async def test_wrong_passwords_lock_the_account_for_15_minutes(kit):
    async with client_of(kit) as client:
        for _ in range(5):
            response = await sign_in(client, "owner@acme.example", "wrong password!")
        assert response.status_code == 429
        assert "15 minutes" in response.text
        # The right password does not open a locked account...
        assert (await sign_in(client, "owner@acme.example")).status_code == 429
    user = (await users.all_users())[1]
    assert user.email == "owner@acme.example" and user.locked_until is not None
    # ...until the lock has passed.
    await kit.advance(minutes=16)
    async with client_of(kit, "198.51.100.9") as client:
        assert (await sign_in(client, "owner@acme.example")).status_code == 303


async def test_one_address_is_limited_across_accounts(kit):
    async with client_of(kit, "192.0.2.50") as client:
        for number in range(20):
            response = await sign_in(client, f"nobody{number}@example.com", "wrong password!")
            assert response.status_code == 401
        assert (await sign_in(client, "admin@example.com")).status_code == 429
    async with client_of(kit, "192.0.2.51") as other:
        assert (await sign_in(other, "admin@example.com")).status_code == 303


async def test_a_new_password_ends_old_sessions(kit):
    await sign_in(kit.client, "owner@acme.example")
    assert (await kit.client.get("/")).status_code == 200
    assert await users.set_password("owner@acme.example", "another password 2")
    assert (await kit.client.get("/")).status_code == 303


async def test_next_never_leaves_the_site(kit):
    page = await kit.client.get("/login?next=//evil.example/")
    response = await kit.client.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD,
              "csrf_token": token(page.text), "next": "//evil.example/"},
    )  # fmt: skip
    assert response.headers["location"] == "/"


async def test_state_changes_need_the_csrf_token(kit):
    await kit.post_call(id="c1")
    await kit.run_due_jobs()
    await sign_in(kit.client, "admin@example.com")
    lead = (await kit.recorded.leads())[0]
    missing = await kit.client.post(f"/leads/{lead.id}/status", data={"status": "booked"})
    assert missing.status_code == 403
    wrong = await kit.client.post(
        f"/leads/{lead.id}/status", data={"status": "booked", "csrf_token": "guess"}
    )
    assert wrong.status_code == 403
    # The login form needs it too (no signing a victim in to an attacker's account).
    async with client_of(kit) as fresh:
        bare = await fresh.post("/login", data={"email": "a@b.c", "password": "x"})
        assert bare.status_code == 403
    # A scripted request sends it as a header.
    good = await kit.client.post(
        f"/leads/{lead.id}/status",
        data={"status": "booked"},
        headers={"X-CSRF-Token": await csrf_of(kit.client)},
    )
    assert good.status_code == 303
    assert (await kit.recorded.leads())[0].status == "booked"


async def test_pages_carry_the_security_headers(kit):
    await sign_in(kit.client, "admin@example.com")
    for path in ("/login", "/", "/analytics", "/setup"):
        response = await kit.client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text and " style=" not in response.text
    assert "content-security-policy" not in (await kit.client.get("/healthz")).headers


async def test_setup_is_for_admins(kit):
    await sign_in(kit.client, "owner@acme.example")
    assert (await kit.client.get("/setup")).status_code == 404
    await kit.client.post("/logout", data={"csrf_token": await csrf_of(kit.client)})
    await sign_in(kit.client, "admin@example.com")
    page = await kit.client.get("/setup")
    assert page.status_code == 200 and "/hooks/acme/generic/call" in page.text


async def test_no_password_hash_or_secret_in_pages_or_logs(kit, caplog):
    # The hub's own logs at their most verbose (`hub serve -v`); the database drivers' SQL
    # echo, which prints every parameter, is kept at WARNING by the CLI as it is here.
    caplog.set_level(logging.DEBUG, logger="hub")
    await sign_in(kit.client, "admin@example.com", "wrong password!")
    await sign_in(kit.client, "admin@example.com")
    await kit.post_call(id="c1")
    await kit.run_due_jobs()
    pages = [
        (await kit.client.get(path)).text
        for path in ("/", "/setup", "/analytics", "/leads.csv", "/leads/1")
    ]
    from hub.models import User

    hashes = [user.password_hash for user in await User.all()]
    secrets = [*hashes, PASSWORD, "wrong password!", "test-secret-key-0123456789abcdef",
               "test-secret-0123456789"]  # fmt: skip
    texts = {**{f"page {n}": page for n, page in enumerate(pages)}, "log": caplog.text}
    leaks = [(where, s[:12]) for where, text in texts.items() for s in secrets if s in text]
    assert leaks == []
