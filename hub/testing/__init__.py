"""A test kit for the hub and its plugins, shipped with the hub (as tox ships ``tox.pytest``).

Opt in from a ``conftest.py``::

    pytest_plugins = ["hub.testing"]

What it gives a plugin author:

- ``business(...)`` / ``write_config(...)``: a working hub.yaml in a temporary directory;
- ``in_process_hub(...)``: a hub in this process, its web app driven through
  ``httpx.ASGITransport`` (no port), with no background worker: ``await kit.run_due_jobs()``
  runs every due job, ``await kit.advance(minutes=5)`` moves its ``ManualClock`` and runs
  what came due, ``kit.outbox`` is what its ``memory`` sender and sink were given;
- ``running_hub(...)``: the same hub served by uvicorn on 127.0.0.1, for real HTTP;
- ``FakeProviderApi``, ``WebhookRequest``, ``CallDriver``: the base of every provider kit's
  fake API, signed webhooks and call driver (see ``hub.testing.fakes``);
- contract test classes to subclass, one per plugin kind: ``SmsSenderContract``,
  ``SinkContract``, ``CallSourceContract``, ``ReplyParserContract``
  (``hub.testing.contracts``);
- ``kit.recorded`` (``Recorded(hub)`` for any hub): what the hub recorded, its calls, leads,
  texts, opt-outs, contacts, jobs and provider events, as snapshots to assert on
  (``hub.testing.recorded``), so a plugin's tests need none of the hub's models;
- ``run_cli(*args)``: the ``hub`` command in this process (click's ``CliRunner``);
  ``config_issues(path)``: what loading a hub.yaml refuses, as ``(path, message)``;
  ``modules_loaded_by(args, modules)``: which modules ``hub ARGS`` imports in a fresh process;
- ``Clock`` / ``ManualClock``;
- fixtures ``hub_dir`` (a temporary directory for hub.yaml) and ``postgres_url``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.clock import Clock, ManualClock
from hub.testing.cli import CliResult, config_issues, modules_loaded_by, run_cli
from hub.testing.config import DEFAULT_SECRET, business, free_port, signed_call, write_config
from hub.testing.contracts import (
    CallSourceContract,
    ReplyParserContract,
    SinkContract,
    SmsSenderContract,
    hub_with,
    sample_event,
    sample_notification,
)
from hub.testing.fakes import (
    CallDriver,
    CallTrace,
    FakeProviderApi,
    FakeProviderServer,
    RecordedRequest,
    ScriptedResponse,
    SentSms,
    WebhookRequest,
)
from hub.testing.local import (
    PUBLIC_URL,
    InProcessHub,
    in_process_hub,
    make_hub,
    prepare_database,
)
from hub.testing.memory import MemoryOutbox, MemoryPlugin, MemorySender, MemorySink
from hub.testing.postgres import POSTGRES_SERVER, throwaway_postgres
from hub.testing.recorded import (
    Recorded,
    RecordedContact,
    RecordedJob,
    RecordedMessage,
    RecordedOptOut,
)
from hub.testing.server import HubClient, RunningHub, eventually, running_hub

__all__ = [
    "DEFAULT_SECRET",
    "POSTGRES_SERVER",
    "PUBLIC_URL",
    "CallDriver",
    "CallSourceContract",
    "CallTrace",
    "CliResult",
    "Clock",
    "FakeProviderApi",
    "FakeProviderServer",
    "HubClient",
    "InProcessHub",
    "ManualClock",
    "MemoryOutbox",
    "MemoryPlugin",
    "MemorySender",
    "MemorySink",
    "Recorded",
    "RecordedContact",
    "RecordedJob",
    "RecordedMessage",
    "RecordedOptOut",
    "RecordedRequest",
    "ReplyParserContract",
    "RunningHub",
    "ScriptedResponse",
    "SentSms",
    "SinkContract",
    "SmsSenderContract",
    "WebhookRequest",
    "business",
    "config_issues",
    "eventually",
    "free_port",
    "hub_dir",
    "hub_with",
    "in_process_hub",
    "make_hub",
    "modules_loaded_by",
    "postgres_url",
    "prepare_database",
    "run_cli",
    "running_hub",
    "sample_event",
    "sample_notification",
    "signed_call",
    "throwaway_postgres",
    "write_config",
]


# -- pytest fixtures ------------------------------------------------------------------------------


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    """A temporary directory for a hub.yaml and its SQLite file."""
    return tmp_path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL database (skips when no server answers)."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def memory() -> None:
    """Gone: the memory sender's and sink's outbox is per hub now (``kit.outbox``)."""
    pytest.fail(
        "the `memory` fixture is gone: each hub has its own outbox, "
        "`in_process_hub(...).outbox` (or pass `outbox=` to make_hub)",
        pytrace=False,
    )
