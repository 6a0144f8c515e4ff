"""The core's own job kinds, registered like a plugin's."""

from __future__ import annotations

from collections.abc import Callable

from hub import followups, inbound
from hub.core import Hub
from hub.flow import TEXT_BACK
from hub.hookspecs import hookimpl
from hub.jobs import ClaimedJob, JobKind
from hub.notifications import NOTIFY


async def _text_back(hub: Hub, job: ClaimedJob) -> None:
    await hub.flow.run_text_back(job)


async def _notify(hub: Hub, job: ClaimedJob) -> None:
    await hub.notifications.run(job)


@hookimpl
def hub_register_job_kinds(register: Callable[[JobKind], None]) -> None:
    # Texts retry for about half an hour, then the owner hears the text failed; notifications
    # keep trying for hours, since a lead nobody hears about is a lead lost.
    for name, handler in (
        (TEXT_BACK, _text_back),
        (inbound.SEND_REPLY, inbound.run_send_reply),
        (followups.NUDGE, followups.run_nudge),
        (followups.OWNER_ALERT, followups.run_owner_alert),
    ):
        register(JobKind(name, handler, max_attempts=8, backoff_base=5, backoff_cap=600))
    register(JobKind(NOTIFY, _notify, max_attempts=10, backoff_base=10, backoff_cap=3600))
    register(JobKind(inbound.PROCESS_REPLY, inbound.run_process_reply, max_attempts=5))
    register(JobKind(followups.REMIND_OWNER, followups.run_remind_owner, max_attempts=5))
    register(JobKind(followups.SUMMARY, followups.run_summary, max_attempts=5))
