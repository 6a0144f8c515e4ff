"""SIGKILL ``hub serve`` during a burst of missed calls: no text lost, none sent twice.

A short form of ``bench/crash_burst.py`` (1,000 calls and five kills there)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crash_burst.py"


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("crash_burst", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not os.environ.get("HUB_CRASH_BURST"),
    reason="opt-in (HUB_CRASH_BURST=1): about 20 s of hub restarts",
)
def test_killed_during_a_burst_loses_nothing_and_sends_nothing_twice(hub_dir):
    result = load_bench().burst(120, 1, hub_dir, None)
    assert result["kills"] == 1 and result["acknowledged"] > 0
    assert result["lost"] == 0 and result["duplicates"] == 0, result
