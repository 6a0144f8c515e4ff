"""An in-process hub: the web app driven through ``httpx.ASGITransport`` (no port, no uvicorn)
and no background worker. Jobs run when the test says so, ``await kit.run_due_jobs()``, so a
test that asserts something did *not* happen runs the due jobs and then asserts: nothing is
left to happen later, and nothing is waited for.

    async with in_process_hub(write_config(hub_dir)) as kit:
        await kit.post_call(id="c1")
        await kit.run_due_jobs()
        assert [t.to for t in kit.outbox.texts] == ["+15125550123"]
        await kit.advance(hours=2)          # a ManualClock moves, then due jobs run
        call = await kit.recorded.call()    # what the hub stored (``hub.testing.recorded``)
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from hub.clock import Clock, ManualClock
from hub.plugins import load_plugins
from hub.runtime import Hub
from hub.testing.memory import MemoryOutbox, MemoryPlugin
from hub.testing.recorded import Recorded
from hub.testing.server import HubClient
from hub.worker import Worker

#: The ``public_url`` of an in-process hub: what webhook URLs and signatures are built on.
PUBLIC_URL = "http://hub.test"


def make_hub(
    config_path: Path,
    *,
    extra_plugins: Iterable[object] = (),
    clock: Clock | None = None,
    outbox: MemoryOutbox | None = None,
) -> Hub:
    """A hub on ``config_path`` with the installed plugins, ``memory`` (keeping what it gets in
    ``outbox``, a fresh one by default) and ``extra_plugins``. Not started."""
    plugins = load_plugins(extra=[MemoryPlugin(outbox), *extra_plugins])
    return Hub.from_path(config_path, plugins=plugins, clock=clock)


class InProcessHub(HubClient):
    """One hub, started in this process, with an ``httpx`` client on its ASGI app.

    ``hub`` is built but not started until ``async with`` (or ``start()``), so a test may
    adjust it first. The clock is a ``ManualClock`` at the real time unless one is given:
    time passes only through ``advance``.
    """

    def __init__(self, hub: Hub, outbox: MemoryOutbox, *, public_url: str = PUBLIC_URL) -> None:
        self.hub = hub
        self.outbox = outbox
        self.url = public_url
        self._worker: Worker | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def clock(self) -> Clock:
        return self.hub.clock

    @property
    def recorded(self) -> Recorded:
        """What this hub recorded: its calls, leads, texts, opt-outs, contacts and jobs, as
        snapshots to assert on (``hub.testing.recorded.Recorded``)."""
        return Recorded(self.hub)

    @property
    def client(self) -> httpx.AsyncClient:  # type: ignore[override]
        if self._client is None:
            raise RuntimeError("the hub is not started: use `async with` or `await start()`")
        return self._client

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> InProcessHub:
        from hub.web import create_app

        self.hub.config.public_url = self.url
        await prepare_database(self.hub)
        # ASGITransport runs no lifespan: the hub is started here, without its worker.
        await self.hub.start(worker=False)
        app = create_app(self.hub)
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=self.url, timeout=10
        )
        return self

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self.hub.started:
            await self.hub.stop()

    async def __aenter__(self) -> InProcessHub:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- jobs and time ----------------------------------------------------------------------------

    @property
    def worker(self) -> Worker:
        """The worker ``run_due_jobs`` drives (never started: it runs nothing by itself)."""
        if self._worker is None:
            self._worker = self.hub.make_worker()
            # One job at a time, in the queue's order: the same run every time.
            self._worker.concurrency = 1
        return self._worker

    async def run_due_jobs(self) -> int:
        """Run every job due by the hub's clock, and those they enqueue, until none is due;
        return how many ran. A job waiting for later (a delay, a retry's backoff, quiet
        hours) stays queued until ``advance`` brings its time."""
        return await self.worker.drain()

    async def advance(self, delta: timedelta | float = 0.0, **parts: float) -> int:
        """Move the ``ManualClock`` by ``delta`` (seconds or a timedelta) plus ``parts``
        (``minutes=5``, ``hours=2``...), then ``run_due_jobs``."""
        clock = self.hub.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance() needs the hub to run on a ManualClock")
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        clock.advance(step + timedelta(**parts))
        return await self.run_due_jobs()

    async def set_time(self, moment: datetime) -> int:
        """Set the ``ManualClock`` to ``moment``, then ``run_due_jobs``."""
        clock = self.hub.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("set_time() needs the hub to run on a ManualClock")
        clock.set(moment)
        return await self.run_due_jobs()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 0.0) -> None:
        """Run the due jobs, then assert ``predicate()``: the same call as
        ``RunningHub.wait_for``, with nothing to wait for."""
        await self.run_due_jobs()
        assert predicate(), "the condition does not hold after running every due job"


def in_process_hub(
    config_path: Path,
    *,
    extra_plugins: Iterable[object] = (),
    clock: Clock | None = None,
    outbox: MemoryOutbox | None = None,
    public_url: str = PUBLIC_URL,
) -> InProcessHub:
    """An ``InProcessHub`` on ``config_path`` (see ``make_hub``), not started yet: use it as
    ``async with in_process_hub(path) as kit:``."""
    outbox = outbox if outbox is not None else MemoryOutbox()
    clock = clock if clock is not None else ManualClock(datetime.now(UTC))
    hub = make_hub(config_path, extra_plugins=extra_plugins, clock=clock, outbox=outbox)
    return InProcessHub(hub, outbox, public_url=public_url)


# -- a migrated database to start from ------------------------------------------------------------

_template: Path | None = None


async def prepare_database(hub: Hub) -> None:
    """For a hub about to start on a SQLite file that does not exist yet: copy a migrated
    database into place instead of migrating from scratch for every test (the hub still
    checks, and applies anything missing, when it starts)."""
    global _template
    path = hub.db.sqlite_path
    if path is None or path.exists():
        return
    if _template is None:
        from hub.store.db import Database

        directory = Path(tempfile.mkdtemp(prefix="hub-template-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        template = directory / "template.sqlite3"
        database = Database(f"sqlite:///{template}")
        await database.connect()
        try:
            await database.migrate()
        finally:
            await database.close()
        _template = template
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template, path)
