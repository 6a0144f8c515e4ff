"""SIGKILL ``hub serve`` during a burst of missed calls: no text lost, none sent twice.

A short form of ``bench/crash_burst.py`` (1,000 calls and five kills there): 150 calls, two
kills, SQLite. The run ends when the database says every text-back job has finished, not
after a fixed wait; calls cut off by a kill are retried as a provider retries a webhook."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crash_burst.py"


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("crash_burst", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_killed_during_a_burst_loses_nothing_and_sends_nothing_twice(hub_dir):
    result = load_bench().burst(150, 2, hub_dir, finish_within=60)
    assert result["kills"] == 2, result
    # The kills cut off webhooks in flight: their retries are what the hub had to dedupe.
    assert result["retried"] > 0, result
    assert result["acknowledged"] == 150 and result["jobs"] == {"completed": 150}, result
    assert result["lost"] == 0 and result["duplicates"] == 0, result
    assert result["texts"] == 150, result
