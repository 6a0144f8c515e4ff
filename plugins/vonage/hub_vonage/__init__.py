"""Vonage for the missed-call text-back hub: a call source and an SMS sender named ``vonage``.

Registered through the ``hub`` entry-point group, like any third-party plugin::

    [project.entry-points.hub]
    vonage = "hub_vonage"

See README.md for the settings and for what to set in the Vonage dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hub import ClaimedJob, Discard, JobContext, JobKind, hookimpl
from hub_vonage.messaging import CONCAT_FLUSH, VonageSender
from hub_vonage.transcripts import TRANSCRIPT_JOB
from hub_vonage.voice import VonageCallSource

if TYPE_CHECKING:
    from hub import CallSource, SmsSender

__all__ = ["VonageCallSource", "VonageSender"]


@hookimpl
def hub_register_call_sources(register: Callable[[type[CallSource]], None]) -> None:
    register(VonageCallSource)


@hookimpl
def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
    register(VonageSender)


async def _flush_parts(context: JobContext, job: ClaimedJob) -> None:
    payload = job.payload
    senders = context.providers(payload["business"], VonageSender)
    if not senders:
        raise Discard(f"business {payload['business']!r} no longer sends through vonage")
    await senders[0].flush_parts(payload["sender"], payload["concat_ref"], int(payload["total"]))


async def _take_transcript(context: JobContext, job: ClaimedJob) -> None:
    payload = job.payload
    sources = context.providers(payload["business"], VonageCallSource)
    if not sources:
        raise Discard(f"business {payload['business']!r} no longer takes calls through vonage")
    await sources[0].take_transcript(payload["call"], payload["url"])


@hookimpl
def hub_register_job_kinds(register: Callable[[JobKind], None]) -> None:
    # Passes on a multipart text whose last parts never came (see hub_vonage.multipart).
    register(JobKind(CONCAT_FLUSH, _flush_parts, max_attempts=5, backoff_base=10, backoff_cap=600))
    # Fetches a voicemail's transcript (see hub_vonage.transcripts): a Vonage that is down is
    # tried again for about an hour, then the voicemail stays without its transcript.
    register(
        JobKind(TRANSCRIPT_JOB, _take_transcript, max_attempts=6, backoff_base=60, backoff_cap=1200)
    )
