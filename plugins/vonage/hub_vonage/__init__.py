"""Vonage for the missed-call text-back hub: a call source and an SMS sender named ``vonage``.

Registered through the ``hub`` entry-point group, like any third-party plugin::

    [project.entry-points.hub]
    vonage = "hub_vonage"

See README.md for the settings and for what to set in the Vonage dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hub import ClaimedJob, Discard, JobKind, hookimpl
from hub_vonage.messaging import CONCAT_FLUSH, VonageSender
from hub_vonage.voice import VonageCallSource

if TYPE_CHECKING:
    from hub import CallSource, SmsSender
    from hub.runtime import Hub

__all__ = ["VonageCallSource", "VonageSender"]


@hookimpl
def hub_register_call_sources(register: Callable[[type[CallSource]], None]) -> None:
    register(VonageCallSource)


@hookimpl
def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
    register(VonageSender)


async def _flush_parts(hub: Hub, job: ClaimedJob) -> None:
    payload = job.payload
    providers = hub.providers.get(payload["business"])
    senders = [
        p
        for p in (providers.by_name.get(VonageSender.name, []) if providers else [])
        if isinstance(p, VonageSender)
    ]
    if not senders:
        raise Discard(f"business {payload['business']!r} no longer sends through vonage")
    await senders[0].flush_parts(payload["sender"], payload["concat_ref"], int(payload["total"]))


@hookimpl
def hub_register_job_kinds(register: Callable[[JobKind], None]) -> None:
    # Passes on a multipart text whose last parts never came (see hub_vonage.multipart).
    register(JobKind(CONCAT_FLUSH, _flush_parts, max_attempts=5, backoff_base=10, backoff_cap=600))
