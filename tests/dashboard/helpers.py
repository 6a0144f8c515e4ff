"""Shared by the dashboard's tests: a hub with two businesses, users, and signing in."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from hub.store import users
from hub.testing import business, write_config

PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-0123456789abcdef"


#: The memory sink hearing lead changes too, so a test sees what the dashboard's edits emit.
LEAD_SINK = {"use": "memory", "on": ["lead.created", "lead.updated", "lead.status_changed"]}


def two_businesses(hub_dir: Path, **top: object) -> Path:
    """acme (+15125550100) and bravo (+15125550200), memory sender and sink each."""
    return write_config(
        hub_dir,
        {
            "acme": business("Acme Plumbing", ["+15125550100"], sinks=[LEAD_SINK]),
            "bravo": business("Bravo Electric", ["+15125550200"]),
        },
        secret_key=SECRET_KEY,
        **top,
    )


async def add_users() -> None:
    await users.add("admin@example.com", PASSWORD, users.Role.ADMIN)
    await users.add("owner@acme.example", PASSWORD, users.Role.OWNER, ["acme"])
    await users.add("staff@bravo.example", PASSWORD, users.Role.STAFF, ["bravo"])


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token(page.text)},
    )


async def csrf_of(client: httpx.AsyncClient, path: str = "/") -> str:
    return token((await client.get(path)).text)
