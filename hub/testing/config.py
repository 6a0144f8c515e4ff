"""hub.yaml for tests: one business that works out of the box, written to a directory."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from hub.defaults.generic import SIGNATURE_HEADER, sign

DEFAULT_SECRET = "test-secret-0123456789"  # noqa: S105 - a test fixture's secret


def business(
    name: str = "Acme Plumbing",
    numbers: Sequence[str] = ("+15125550100",),
    *,
    secret: str = DEFAULT_SECRET,
    hours: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Settings for one business: open around the clock, generic calls, memory sender and sink
    (pass ``sms_sender=`` / ``sinks=`` / ``hours=`` to change them). Quiet hours are off, so a
    test does not depend on the hour it runs at; pass ``quiet_hours={}`` to test them."""
    settings: dict[str, Any] = {
        "name": name,
        "timezone": "America/Chicago",
        "numbers": list(numbers),
        "hours": hours if hours is not None else {"mon-sun": "00:00-24:00"},
        "owner": {"name": "Owner", "email": "owner@example.com"},
        "call_source": {"use": "generic", "secret": secret},
        "sms_sender": {"use": "memory"},
        "sinks": [{"use": "memory"}],
        "quiet_hours": {"enabled": False},
    }
    settings.update(overrides)
    return settings


def write_config(
    directory: Path, businesses: dict[str, dict[str, Any]] | None = None, **top: Any
) -> Path:
    """Write hub.yaml into ``directory``; ``top`` sets top-level keys (``database``...)."""
    data: dict[str, Any] = {"database": "sqlite://hub.sqlite3", "worker": {"poll_interval": 0.05}}
    data.update(top)
    data["businesses"] = businesses if businesses is not None else {"acme": business()}
    path = directory / "hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def signed_call(secret: str = DEFAULT_SECRET, **fields: Any) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a signed ``generic`` call webhook. Defaults: a missed call from
    +15125550123 to +15125550100 with a random id."""
    data = {
        "id": f"call-{uuid.uuid4().hex[:10]}",
        "from": "+15125550123",
        "to": "+15125550100",
        "outcome": "missed",
    }
    data.update({("from" if key == "caller" else key): value for key, value in fields.items()})
    body = json.dumps(data).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
