"""``SheetsSink``: one row per lead in a Google Sheet, kept up to date.

What it remembers (``self.context.state``, durable, per business):

- ``event:<event id>``: the events it wrote, so a retry after a lost answer writes nothing;
- ``lead:<id>:row``: the lead's row (``{"row": 7}``), learnt from the append's answer; or,
  while its append is under way, ``{"appending": <event id>, "at": <unix seconds>}``. Before
  rewriting a row the sink reads its lead_id cell: an owner who sorts the tab or deletes rows
  moves leads, and the sink looks the lead up again rather than overwrite another one;
- ``lead:<id>:version``: the newest lead version written, so a late, older update is dropped;
- ``header:<spreadsheet>:<tab>``: that the tab's first row was looked at (and a header
  written if it was empty).

The crash window between Google appending a row and the row being remembered: the
``appending`` mark is set before the append. Whoever finds it (the same event retried, after a
timeout, a 503 or the process dying) first looks for the lead's id in the ``lead_id`` column,
and takes that row if it is there; only if not does it append.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import hub
from hub_sheets import columns, ranges, throttle
from hub_sheets.api import SheetsApi
from hub_sheets.config import SheetsConfig
from hub_sheets.errors import SheetsError

#: After this long, an ``appending`` mark left by another delivery is taken for abandoned
#: (that delivery gave up or its process died), and the row looked for and written anew.
ABANDONED_AFTER = 600.0
#: How soon an update that finds the lead's append under way comes back.
APPEND_PENDING_RETRY = 30.0


class SheetsSink(hub.Sink[SheetsConfig]):
    name = "sheets"  # hub.yaml: sinks: [{use: sheets, spreadsheet_id: ..., credentials: ...}]
    description = "One row per lead in a Google Sheet, updated as the lead changes"
    events = hub.LEAD_CHANGES

    async def start(self) -> None:
        # google-auth and requests load here, not when `hub check` loads the plugin.
        from hub_sheets.auth import ServiceAccount

        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self.account = ServiceAccount(self.config.key())
        self.api = SheetsApi(
            self.config.api_base_url, self.config.spreadsheet_id, self.account, self.config.timeout
        )

    async def close(self) -> None:
        await self.api.aclose()
        self.account.close()

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        # One write at a time per lead in this process, so an older snapshot read before a
        # newer one cannot be written after it (across processes the version check remains).
        lock = self._locks.setdefault(event.lead.id, asyncio.Lock())
        async with lock:
            return await self._deliver(event)

    async def _deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"event:{event.id}")
        if done is not None:  # a retry of an event we wrote: the hub lost our answer
            return hub.DeliveryResult.delivered(str(done))
        if await self._is_stale(event):
            return hub.DeliveryResult.delivered("stale")  # a newer version is already there
        try:
            reference = await self._write(event)
        except SheetsError as error:
            return error.result
        await state.set(f"event:{event.id}", reference)
        await self._applied(event)
        return hub.DeliveryResult.delivered(reference)

    # -- the row ----------------------------------------------------------------------------------

    async def _write(self, event: hub.Event) -> str:
        """Write the lead's row; the range written, for the delivery's reference."""
        lead = event.lead
        cells = columns.row(lead, self.config.columns, self.context.business.timezone)
        row = await self._row(event)
        if row is not None:
            a1 = ranges.row_range(self.config.sheet, row, len(cells))
            await self._throttled()
            await self.api.update(a1, [cells])
            return a1
        rows = [cells]
        try:
            if await self._tab_is_empty():
                rows.insert(0, columns.header(self.config.columns))
            await self._throttled()
            a1 = await self.api.append(f"{ranges.quote_sheet(self.config.sheet)}!A1", rows)
        except SheetsError as error:
            if error.result.status == hub.DeliveryStatus.FAILED:
                # Refused outright: nothing was appended, so nothing is under way any more.
                await self._forget_append(event)
            raise
        row = ranges.last_row(a1)  # the lead's row is the last appended, after any header
        await self.context.state.set(self._row_key(lead.id), {"row": row})
        if len(rows) > 1:
            await self.context.state.set(self._header_key(), True)
        return ranges.row_range(self.config.sheet, row, len(cells))

    async def _row(self, event: hub.Event) -> int | None:
        """The lead's row, if it has one; ``None`` once this delivery may append it (its mark
        is set). ``SheetsError`` (retry) while another delivery is appending it."""
        key, state = self._row_key(event.lead.id), self.context.state
        mine: dict[str, hub.JSON] = {"appending": event.id, "at": self.context.now().timestamp()}
        while True:
            known = await state.get(key)
            if isinstance(known, dict) and isinstance(known.get("row"), int):
                row = int(known["row"])  # type: ignore[arg-type]
                if await self._holds(row, event.lead.id):
                    return row
                # The owner sorted the tab or deleted rows above: look for the lead again,
                # and add its row anew if it was deleted.
                found = await self._find(event.lead.id)
                moved: hub.JSON = {"row": found} if found is not None else mine
                if await state.compare_and_set(key, known, moved):
                    return found
                continue
            if known is None:
                if await state.compare_and_set(key, None, mine):
                    return None
                continue  # someone else marked it meanwhile: look again
            # An append was under way, by this event (tried before) or another delivery.
            found = await self._find(event.lead.id)
            if found is not None:
                if await state.compare_and_set(key, known, {"row": found}):
                    return found
                continue
            if not isinstance(known, dict) or (
                known.get("appending") != event.id and not self._abandoned(known)
            ):
                raise SheetsError.retry(
                    f"lead {event.lead.id}'s row is being added by another delivery",
                    retry_after=APPEND_PENDING_RETRY,
                )
            if await state.compare_and_set(key, known, mine):
                return None

    def _abandoned(self, mark: dict[str, Any]) -> bool:
        at = mark.get("at")
        now = self.context.now().timestamp()
        return not isinstance(at, int | float) or now - at > ABANDONED_AFTER

    async def _find(self, lead_id: int) -> int | None:
        """The row holding ``lead_id`` in the lead_id column, if any (1-based)."""
        index = self.config.columns.index("lead_id")
        values = await self.api.get(ranges.column_range(self.config.sheet, index))
        for number, cells in enumerate(values, start=1):
            if cells and str(cells[0]) == str(lead_id):
                return number
        return None

    async def _holds(self, row: int, lead_id: int) -> bool:
        """Whether ``row`` still holds ``lead_id`` in the lead_id column."""
        letter = ranges.column_letter(self.config.columns.index("lead_id"))
        values = await self.api.get(f"{ranges.quote_sheet(self.config.sheet)}!{letter}{row}")
        return bool(values and values[0]) and str(values[0][0]) == str(lead_id)

    async def _forget_append(self, event: hub.Event) -> None:
        key = self._row_key(event.lead.id)
        known = await self.context.state.get(key)
        if isinstance(known, dict) and known.get("appending") == event.id:
            await self.context.state.delete(key)

    async def _tab_is_empty(self) -> bool:
        """Whether a header row should go first: asked of Google once per tab."""
        if not self.config.header or await self.context.state.get(self._header_key()):
            return False
        empty = not await self.api.get(f"{ranges.quote_sheet(self.config.sheet)}!1:1")
        if not empty:
            await self.context.state.set(self._header_key(), True)
        return empty

    async def _throttled(self) -> None:
        wait = await throttle.take(self.account.email, self.config.writes_per_minute)
        if wait is not None:
            raise SheetsError.retry(
                f"holding writes to stay under {self.config.writes_per_minute} a minute "
                f"for {self.account.email}",
                retry_after=round(wait + 0.5, 1),
            )

    # -- versions ---------------------------------------------------------------------------------

    @staticmethod
    def _version(event: hub.Event) -> int:
        """The version of what this delivery writes: the lead as it is now (``event.lead``),
        which is at least the version the event produced."""
        return max(event.lead_version, event.lead.version)

    async def _is_stale(self, event: hub.Event) -> bool:
        """Whether a newer version of this lead was already written."""
        last = await self.context.state.get(self._version_key(event.lead.id))
        return isinstance(last, int) and self._version(event) < last

    async def _applied(self, event: hub.Event) -> None:
        """Remember the newest version written: another delivery may be racing this one."""
        key, version = self._version_key(event.lead.id), self._version(event)
        while True:
            last = await self.context.state.get(key)
            if isinstance(last, int) and last >= version:
                return
            if await self.context.state.compare_and_set(key, last, version):
                return

    # -- keys -------------------------------------------------------------------------------------

    @staticmethod
    def _row_key(lead_id: int) -> str:
        return f"lead:{lead_id}:row"

    @staticmethod
    def _version_key(lead_id: int) -> str:
        return f"lead:{lead_id}:version"

    def _header_key(self) -> str:
        return f"header:{self.config.spreadsheet_id}:{self.config.sheet}"
