"""The ``hub`` command, run in this process (click's ``CliRunner``) instead of a subprocess:
the same arguments, exit code and output, without paying the interpreter's start-up per call."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from click.testing import CliRunner


@dataclass(frozen=True)
class CliResult:
    """What ``hub ARGS`` did: the shape of ``subprocess.CompletedProcess``."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


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
