"""The ``hub`` command, run in this process (click's ``CliRunner``) instead of a subprocess:
the same arguments, exit code and output, without paying the interpreter's start-up per call;
and ``config_issues(path)``, what loading a hub.yaml refuses, setting by setting."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner


@dataclass(frozen=True)
class CliResult:
    """What ``hub ARGS`` did: the shape of ``subprocess.CompletedProcess``."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams, stdout then stderr: for what must show (or never show) in either."""
        return self.stdout + self.stderr


def run_cli(*args: str, env: Mapping[str, str | None] | None = None) -> CliResult:
    """Run ``hub *args`` in this process. An exception that escapes the command (what a user
    would see as a traceback) fails the test with that traceback, rather than hiding in the
    result."""
    from hub.cli import main

    runner = CliRunner()
    result = runner.invoke(main, list(args), env=env, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        details = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"`hub {' '.join(args)}` raised:\n{details}")
    return CliResult(tuple(args), result.exit_code, result.stdout, result.stderr)


def config_issues(config_path: Path | str) -> list[tuple[str, str]]:
    """What loading ``config_path`` with the installed plugins refuses, as ``(path, message)``
    (``("businesses.acme.sms_sender.api_key", "...")``), in the order found; ``[]`` when it
    loads. These are the settings errors ``hub check`` prints first; the command goes on to
    check what needs the whole hub (a provider's ``problems()``, the templates): for those,
    ``run_cli("check", "--config", str(path))``."""
    from hub.config import ConfigError, load_config
    from hub.plugins import load_plugins

    try:
        load_config(config_path, load_plugins())
    except ConfigError as error:
        return [(issue.path, issue.message) for issue in error.issues]
    return []


def modules_loaded_by(args: Sequence[str], modules: Sequence[str]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``hub *args``.

    For a plugin's promise that a command stays quick: ``hub check`` should build its providers
    without importing an SDK's HTTP stack, which only a running hub needs."""
    script = (
        "import json, sys\n"
        "from hub.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps(sorted(m for m in {list(modules)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        loaded: list[str] = json.loads(last[0])
    except ValueError:
        raise AssertionError(f"`hub {' '.join(args)}` failed:\n{done.stderr}") from None
    return loaded
