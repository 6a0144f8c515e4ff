"""SIGKILL ``hub serve`` during a burst of missed calls: no text lost, none sent twice.

A short form of ``bench/crash_burst.py`` (which runs 1,000 calls and five kills)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crash_burst.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("crash_burst", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("calls, kills", [(120, 1)])
def test_killed_during_a_burst_loses_nothing_and_sends_nothing_twice(hub_dir, calls, kills):
    result = load_bench().burst(calls, kills, hub_dir, None)
    assert result["kills"] == kills and result["acknowledged"] > 0
    assert result["lost"] == 0 and result["duplicates"] == 0, result
    assert result["texts"] >= result["acknowledged"]
