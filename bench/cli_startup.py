"""Benchmark: how long the `hub` command takes to start, against the bare interpreter.

    python bench/cli_startup.py [--runs 15] [--config hub.yaml]

Times, each in a fresh process, the median (and the slowest) of ``--runs`` runs of:

- ``python -c pass``: the baseline, the interpreter alone;
- ``hub --help``;
- ``hub check`` on the given hub.yaml (with every installed plugin loaded);
- ``hub simulate call``, posting to a local port that answers ``200`` at once, so what is
  timed is the command, not a hub.

The runs of each command are interleaved with the others', so a burst of load on the machine
spreads across all of them. Bytecode caching is on (``PYTHONDONTWRITEBYTECODE`` is removed from
the environment), as on a user's machine. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # the stdlib's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--config", type=Path, default=ROOT / "hub.yaml")
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    hub = shutil.which("hub", path=str(Path(sys.executable).parent)) or "hub"
    business = _first_business(args.config)
    config = ["--config", str(args.config)]
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "hub --help": [hub, "--help"],
        "hub check": [hub, "check", *config],
    }
    commands["hub simulate call"] = [hub, "simulate", "call", *config, "--business", business]
    commands["hub simulate call"] += ["--from", "+15125550123", "--url", url]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # a first run writes the bytecode caches
        _run(argv, env)
    for _ in range(args.runs):
        for name, argv in commands.items():
            times[name].append(_run(argv, env))
    server.shutdown()
    print(
        json.dumps(
            {
                "runs": args.runs,
                "load_average": os.getloadavg(),
                "seconds": {
                    name: {"median": round(statistics.median(t), 3), "max": round(max(t), 3)}
                    for name, t in times.items()
                },
            },
            indent=2,
        )
    )


def _run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    return elapsed


def _first_business(config: Path) -> str:
    import yaml

    data = yaml.safe_load(config.read_text())
    return str(next(iter(data["businesses"])))


if __name__ == "__main__":
    main()
