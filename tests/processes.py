"""``hub serve`` as a real process, for the tests that start, kill and restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hub.testing import free_port, signed_call


class HubProcess:
    """``hub serve`` in a process of its own, as an operator runs it: started and waited for,
    killed or stopped, its output kept."""

    def __init__(
        self,
        config: Path,
        env: dict[str, str],
        port: int | None = None,
        *,
        log: Path | None = None,
        start_timeout: float = 20.0,
    ) -> None:
        """``log``: append the output of every start to this file instead of a pipe. A pipe
        nobody reads fills up in a long run, and then the hub blocks on its next log line."""
        self.config, self.env, self.port = config, env, port or free_port()
        self.log, self.start_timeout = log, start_timeout
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        output = open(self.log, "a") if self.log else None  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.cli",
                "serve",
                "--config",
                str(self.config),
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=output or subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if output is not None:
            output.close()  # the process has its own copy
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=0.5)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"hub did not start: {self.output()}") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_call(self, call_id: str) -> httpx.Response:
        body, headers = signed_call(id=call_id, caller="+15125550123")
        return httpx.post(
            f"{self.url}/hooks/acme/generic/call", content=body, headers=headers, timeout=5
        )

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        if self.process and self.process.poll() is None:
            self.process.terminate()
        return self.output()

    def output(self) -> str:
        if self.process is None:
            return ""
        try:
            out, _ = self.process.communicate(timeout=20)
        except (ValueError, subprocess.TimeoutExpired):
            return ""
        if self.log:
            return self.log.read_text(errors="replace")[-20_000:]
        return out or ""
