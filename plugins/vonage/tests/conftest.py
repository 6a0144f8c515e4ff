"""Fixtures for the vonage plugin's tests (``hub_dir`` comes from ``hub.testing``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hub_vonage.testing import FakeVonage

from hub.testing import throwaway_postgres


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeVonage]:
    with FakeVonage() as server:
        yield server


@pytest.fixture
def fake(_fake_server: FakeVonage) -> Iterator[FakeVonage]:
    """Vonage's SMS and Messages APIs on 127.0.0.1, with nothing recorded or queued."""
    _fake_server.reset()
    yield _fake_server
    _fake_server.reset()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The hub's database URL: SQLite, and a throwaway PostgreSQL database when a server
    answers at $HUB_TEST_POSTGRES (the plugin keeps multipart texts there, in its key-value state)."""
    if request.param == "sqlite":
        yield "sqlite://hub.sqlite3"
        return
    with throwaway_postgres() as url:
        yield url
