"""hub-sheets: one row per lead in a Google Sheet.

A sink (``use: sheets``) that appends a row when a lead is created and updates that same row
as the lead's fields and status change, written as a Google service account. See README.md for
the settings and for sharing the sheet; ``hub_sheets.testing`` is a fake Google to test against.
"""

from __future__ import annotations

from collections.abc import Callable

import hub
from hub_sheets.config import SheetsConfig
from hub_sheets.sink import SheetsSink

__all__ = ["SheetsConfig", "SheetsSink", "hub_register_sinks"]


@hub.hookimpl
def hub_register_sinks(register: Callable[[type[hub.Sink]], None]) -> None:
    register(SheetsSink)
