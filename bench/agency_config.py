"""Benchmark: `hub check` and reading hub.yaml at agency scale.

    python bench/agency_config.py [--businesses 5000]

Writes a hub.yaml of ``--businesses`` businesses (generic calls, console sender, log sink, the
shared settings under ``defaults:``) and one of a single business, then times, each in a fresh
process, ``hub check`` on both. Beside them, in this process: reading the big file with the
YAML loader the hub uses (libyaml's, when PyYAML has it) and with PyYAML's pure-Python loader,
the baseline. Bytecode caching is on, as on a user's machine. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def write(directory: Path, count: int) -> Path:
    businesses = {
        f"biz-{i:05d}": {
            "name": f"Business {i}",
            "numbers": [f"+1512{i:07d}"],
            "forward_to": f"+1737{i:07d}",
            "owner": {"name": "Owner", "phone": f"+1737{i:07d}", "email": f"o{i}@example.com"},
        }
        for i in range(count)
    }
    secret = {"$env": "GENERIC_SECRET", "default": "demo-secret-0123456789"}
    data = {
        "database": "sqlite://hub.sqlite3",
        "defaults": {
            "timezone": "America/Chicago",
            "hours": {"mon-fri": "08:00-17:00"},
            "call_source": {"use": "generic", "secret": secret},
            "sms_sender": {"use": "console"},
            "sinks": [{"use": "log"}],
            "services": {"water heater": ["water heater"], "drain cleaning": ["drain", "clog"]},
        },
        "businesses": businesses,
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def check_seconds(path: Path) -> float:
    hub = shutil.which("hub", path=str(Path(sys.executable).parent)) or "hub"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    done = subprocess.run([hub, "check", "--config", str(path)], capture_output=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode())
    return round(elapsed, 2)


def load_seconds(path: Path, loader: type[yaml.SafeLoader]) -> float:
    text = path.read_text()
    started = time.perf_counter()
    yaml.load(text, Loader=loader)  # both are safe loaders
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--businesses", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = write(Path(tmp) / "big", args.businesses), write(Path(tmp) / "one", 1)
        check_seconds(small)  # writes the bytecode caches
        fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        results = {
            "businesses": args.businesses,
            "hub_check_s": {"1 business": check_seconds(small), "big": check_seconds(big)},
            "yaml_load_s": {
                "libyaml (the hub's)": load_seconds(big, fast),
                "pure Python (baseline)": load_seconds(big, yaml.SafeLoader),
            },
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
