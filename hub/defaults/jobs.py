"""The core's own job kinds, registered like a plugin's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hub import followups, inbound
from hub.context import JobContext
from hub.core import Hub, HubRuntime
from hub.flow import TEXT_BACK
from hub.hookspecs import hookimpl
from hub.jobs import ClaimedJob, JobHandler, JobKind
from hub.notifications import NOTIFY


def _core(handler: Callable[[Hub, ClaimedJob], Awaitable[None]]) -> JobHandler:
    # A stopgap: the core's handlers still take the whole Hub, which only the core may see, so
    # they reach it through the runtime behind the public JobContext plugins get. The
    # composition root will register them as closures over its services instead.
    async def run(context: JobContext, job: ClaimedJob) -> None:
        runtime = context._runtime
        assert isinstance(runtime, HubRuntime)
        await handler(runtime.hub, job)

    return run


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
        register(JobKind(name, _core(handler), max_attempts=8, backoff_base=5, backoff_cap=600))
    register(JobKind(NOTIFY, _core(_notify), max_attempts=10, backoff_base=10, backoff_cap=3600))
    register(JobKind(inbound.PROCESS_REPLY, _core(inbound.run_process_reply), max_attempts=5))
    register(JobKind(followups.REMIND_OWNER, _core(followups.run_remind_owner), max_attempts=5))
    register(JobKind(followups.SUMMARY, _core(followups.run_summary), max_attempts=5))
