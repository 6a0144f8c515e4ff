"""Failed jobs are dead letters an operator sees and replays (`hub jobs`), a text whose job
fails for good tells the owner, and a text keeps trying for about half an hour."""

from __future__ import annotations

import asyncio
from datetime import datetime

from hub import SmsSender, hookimpl
from hub.cli.base import printable
from hub.keys import NUDGE, OWNER_ALERT, SEND_REPLY, TEXT_BACK
from hub.models import Job
from hub.testing import CliResult, business, in_process_hub, run_cli, write_config
from hub.types import OutboundSms, SendResult


class Unsure(SmsSender):  # type: ignore[type-arg]
    """A provider whose sends time out and whose lookup of sent texts is down: every run of
    a text raises, so its job fails for good without recording an outcome."""

    name = "unsure"
    description = "times out, cannot be asked (tests)"

    async def send(self, sms: OutboundSms) -> SendResult:
        return SendResult.retry("timed out")

    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        raise RuntimeError("lookup API down")


class unsure_plugin:
    @staticmethod
    @hookimpl
    def hub_register_sms_senders(register):
        register(Unsure)


def config(hub_dir, **settings):
    return write_config(hub_dir, {"acme": business(**settings)})


async def cli(*args: str) -> CliResult:
    return await asyncio.to_thread(run_cli, *args)  # a command runs its own event loop


def cli_config(hub_dir):
    """The same hub and database for the `hub` command, which loads installed plugins only."""
    return config(hub_dir, sms_sender={"use": "console"}, sinks=[{"use": "log"}])


async def fail_a_text_back(kit) -> Job:
    """A call whose text-back fails on every attempt, run until its job gives up."""
    await kit.post_call(id="d1")
    for _ in range(12):  # past every backoff
        await kit.run_due_jobs()
        await kit.advance(minutes=11)
    return await Job.get(kind=TEXT_BACK)


async def test_a_text_that_fails_for_good_tells_the_owner_to_call(hub_dir):
    path = config(hub_dir, sms_sender={"use": "unsure"})
    async with in_process_hub(path, extra_plugins=[unsure_plugin]) as kit:
        job = await fail_a_text_back(kit)
        assert job.state == "failed" and job.attempt == job.max_attempts == 11
        assert "could not ask unsure" in job.last_error
        [told] = [n for n in kit.outbox.notifications if n.kind == "cannot_text"]
        assert "call" in told.subject.lower() and "+15125550123" in told.text
        assert "after 11 tries" in told.text


async def test_an_operator_lists_retries_and_cancels_failed_jobs(hub_dir):
    path = config(hub_dir, sms_sender={"use": "unsure"})
    async with in_process_hub(path, extra_plugins=[unsure_plugin]) as kit:
        job = await fail_a_text_back(kit)
    path = cli_config(hub_dir)
    listed = await cli("jobs", "list", "--failed", "--config", str(path))
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if line.lstrip().startswith(str(job.id))]
    assert "text_back" in line and "failed" in line and "11/11" in line and "acme" in line
    other = await cli("jobs", "list", "--failed", "--kind", "notify", "--config", str(path))
    assert "no failed jobs" in other.stdout
    elsewhere = await cli("jobs", "list", "--failed", "-b", "x", "--config", str(path))
    assert "no failed jobs" in elsewhere.stdout

    retried = await cli("jobs", "retry", str(job.id), "--config", str(path))
    assert retried.returncode == 0 and f"job {job.id} queued again" in retried.stdout
    async with in_process_hub(config(hub_dir)):
        again = await Job.get(id=job.id)
        assert (again.state, again.attempt, again.finished_at_ms) == ("available", 0, None)
    path = cli_config(hub_dir)
    assert "no failed jobs" in (await cli("jobs", "list", "--failed", "--config", str(path))).stdout

    cancelled = await cli("jobs", "cancel", str(job.id), "--config", str(path))
    assert cancelled.returncode == 0 and f"job {job.id} cancelled" in cancelled.stdout
    twice = await cli("jobs", "cancel", str(job.id), "--config", str(path))
    assert twice.returncode == 1 and f"no waiting or failed job {job.id}" in twice.stderr
    assert (await cli("jobs", "retry", "--failed", "--config", str(path))).stdout.startswith(
        "0 job"
    )
    assert (await cli("jobs", "retry", "--config", str(path))).returncode == 2


async def test_retry_all_failed_replays_them_and_they_run(hub_dir):
    path = config(hub_dir, sms_sender={"use": "unsure"})
    async with in_process_hub(path, extra_plugins=[unsure_plugin]) as kit:
        job = await fail_a_text_back(kit)
    retried = await cli("jobs", "retry", "--failed", "--config", str(cli_config(hub_dir)))
    assert retried.returncode == 0 and retried.stdout.startswith("1 job(s)")
    async with in_process_hub(config(hub_dir)) as kit:  # the provider is back
        await kit.run_due_jobs()
        assert (await Job.get(id=job.id)).state == "completed"
        assert [sms.to for sms in kit.outbox.texts] == ["+15125550123"]


async def test_an_error_with_terminal_escapes_is_shown_escaped(hub_dir):
    async with in_process_hub(config(hub_dir)):
        await Job.create(
            kind="notify", payload={}, state="failed", business="acme", attempt=1,
            max_attempts=1, run_at_ms=0, created_at_ms=0, finished_at_ms=0, priority=0,
            last_error="bad\x1b]52;c;ZWNobyBoaQ==\x07 \u202eevil",
        )  # fmt: skip
    listed = await cli("jobs", "list", "--config", str(cli_config(hub_dir)))
    assert "\x1b" not in listed.stdout and "\u202e" not in listed.stdout
    assert "bad\\x1b]52;c;ZWNobyBoaQ==\\x07 \\u202eevil" in listed.stdout


def test_printable_escapes_controls_and_bidi_and_keeps_the_rest():
    assert printable("Zoë 🙂 café") == "Zoë 🙂 café"
    assert printable("a\x1b[2Jb\x9bc\x7f") == "a\\x1b[2Jb\\x9bc\\x7f"
    assert printable("\u2066x\u2069\u200f\\") == "\\u2066x\\u2069\\u200f\\\\"


async def test_texts_retry_for_about_half_an_hour(hub_dir):
    async with in_process_hub(config(hub_dir)) as kit:
        for name in (TEXT_BACK, SEND_REPLY, NUDGE, OWNER_ALERT):
            shortest, longest = kit.hub.job_kinds[name].horizon()
            assert shortest >= 20 * 60 and longest <= 45 * 60, (name, shortest, longest)
            assert 25 * 60 <= (shortest + longest) / 2 <= 35 * 60
