"""hub-jobber: Jobber for the missed-call text-back hub.

A sink (``use: jobber``) that makes each lead a Jobber request for the caller's client (found by
phone, or created once), puts later replies and changes on it as notes, and moves the hub's
lead when Jobber books a visit or closes the job (its signed webhooks). The owner connects once
through the hub (OAuth 2; ``hub jobber connect --business B``). See README.md;
``hub_jobber.testing`` is a fake Jobber to test against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import hub
from hub_jobber.config import JobberConfig
from hub_jobber.sink import JobberSink
from hub_jobber.webhooks import JOB

if TYPE_CHECKING:
    import click

__all__ = ["JobberConfig", "JobberSink", "hub_register_commands", "hub_register_sinks"]


@hub.hookimpl
def hub_register_sinks(register: Callable[[type[hub.Sink]], None]) -> None:
    register(JobberSink)


@hub.hookimpl
def hub_register_job_kinds(register: Callable[[hub.JobKind], None]) -> None:
    register(JOB)


@hub.hookimpl
def hub_register_commands(register: Callable[[click.Command], None]) -> None:
    from hub_jobber.cli import jobber

    register(jobber)
