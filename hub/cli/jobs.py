"""``hub jobs``: the job queue for operators. Failed jobs are the dead letters: listed with
why they failed, retried (one, or all of them) once the cause is fixed, or dismissed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.cli.base import build_hub, config_option, main, printable, run_async, with_database

if TYPE_CHECKING:
    from hub.store.jobs import JobRow

#: How much of a job's last error one line of the list shows.
_ERROR_WIDTH = 100


@main.group("jobs")
def jobs_group() -> None:
    """See, retry and cancel jobs: texts, deliveries to sinks."""


@jobs_group.command("list")
@config_option
@click.option("--failed", is_flag=True, help="Only jobs that failed for good (dead letters)")
@click.option("--kind", default=None, help="Only jobs of this kind (text_back, notify, nudge)")
@click.option("--business", "-b", default=None, help="Only this business's jobs (its slug)")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many",
)
def jobs_list(
    config_path: Path | None, failed: bool, kind: str | None, business: str | None, limit: int
) -> None:
    """List jobs, newest first, with their last error.

    Each shows its state and attempts. Times are UTC. A failed job stays until
    `hub jobs retry` or `hub jobs cancel`, or until it is pruned (worker.keep_finished_days)."""
    from hub.store.jobs import list_jobs

    hub = build_hub(config_path)
    rows = run_async(
        with_database(
            hub,
            lambda: list_jobs(
                hub.db,
                states=("failed",) if failed else (),
                kind=kind,
                business=business,
                limit=limit,
            ),
        )
    )
    if not rows:
        click.echo("no failed jobs" if failed else "no jobs")
        return
    row = "{:>7}  {:<16} {:<10} {:<16} {:>5}  {:<16} {}"
    click.echo(row.format("ID", "KIND", "STATE", "BUSINESS", "TRIES", "WHEN", "LAST ERROR"))
    for job in rows:
        click.echo(
            row.format(
                job.id,
                printable(job.kind),
                job.state,
                printable(job.business or "-"),
                f"{job.attempt}/{job.max_attempts}",
                _when(job),
                printable(_short(job.last_error or "")),
            )
        )


@jobs_group.command("retry")
@config_option
@click.argument("job_id", type=int, required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Retry every failed job")
@click.option("--kind", default=None, help="With --failed: only jobs of this kind")
@click.option("--business", "-b", default=None, help="With --failed: only this business's")
def jobs_retry(
    config_path: Path | None,
    job_id: int | None,
    all_failed: bool,
    kind: str | None,
    business: str | None,
) -> None:
    """Run failed job JOB_ID (or all: --failed) again now.

    It gets all its attempts back. A text is still sent at most once: a retried text-back
    that had gone out is recorded, not sent again."""
    from hub.store.jobs import list_jobs, retry_job

    if (job_id is None) == (not all_failed):
        raise click.UsageError("give a JOB_ID or --failed (not both)")
    if job_id is not None and (kind or business):
        raise click.UsageError("--kind and --business go with --failed")
    hub = build_hub(config_path)

    async def retry() -> list[int]:
        now = hub.clock.now_ms()
        if job_id is not None:
            return [job_id] if await retry_job(hub.db, job_id, now_ms=now) else []
        retried = []
        while True:  # in pages: a long outage may have failed many
            page = await list_jobs(
                hub.db, states=("failed",), kind=kind, business=business, limit=500
            )
            for job in page:
                if await retry_job(hub.db, job.id, now_ms=now):
                    retried.append(job.id)
            if len(page) < 500:
                return retried

    retried = run_async(with_database(hub, retry))
    if job_id is not None and not retried:
        raise click.ClickException(f"no failed or cancelled job {job_id}")
    click.echo(
        f"{len(retried)} job(s) queued again" if all_failed else f"job {job_id} queued again"
    )


@jobs_group.command("cancel")
@config_option
@click.argument("job_id", type=int)
def jobs_cancel(config_path: Path | None, job_id: int) -> None:
    """Cancel job JOB_ID, or dismiss it if it failed.

    Only a job that has not run yet can be cancelled: a running one finishes, or fails,
    first."""
    from hub.store.jobs import cancel_job

    hub = build_hub(config_path)
    cancelled = run_async(
        with_database(hub, lambda: cancel_job(hub.db, job_id, now_ms=hub.clock.now_ms()))
    )
    if not cancelled:
        raise click.ClickException(f"no waiting or failed job {job_id}")
    click.echo(f"job {job_id} cancelled")


def _when(job: JobRow) -> str:
    """When it finished, or when it is due."""
    at = job.finished_at_ms if job.finished_at_ms is not None else job.run_at_ms
    return f"{datetime.fromtimestamp(at / 1000, UTC):%Y-%m-%d %H:%M}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_WIDTH else text[: _ERROR_WIDTH - 1] + "…"
