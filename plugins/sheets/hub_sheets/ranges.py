"""A1 notation: the ranges the Sheets API reads and writes (``'My Leads'!A7:L7``)."""

from __future__ import annotations

import re

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROW = re.compile(r"[A-Z]+(\d+)(?::[A-Z]+(\d+))?$")


def quote_sheet(name: str) -> str:
    """A tab's name as A1 notation needs it: quoted unless a plain word, quotes doubled.

    ``Leads`` stays; ``My Leads`` is ``'My Leads'`` and ``Bob's`` is ``'Bob''s'``. A name that
    looks like a cell (``A1``, ``R1C1``) must be quoted too, else it is read as a range.
    """
    if _PLAIN_NAME.fullmatch(name) and not re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def column_letter(index: int) -> str:
    """The letters of a 0-based column index: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def row_range(sheet: str, row: int, width: int) -> str:
    """One row, ``width`` columns from A: ``Leads!A7:L7``."""
    return f"{quote_sheet(sheet)}!A{row}:{column_letter(width - 1)}{row}"


def column_range(sheet: str, index: int) -> str:
    """One whole column: ``Leads!L:L``."""
    letter = column_letter(index)
    return f"{quote_sheet(sheet)}!{letter}:{letter}"


def last_row(a1: str) -> int:
    """The last row an answer's ``updatedRange`` names (``'My Leads'!A6:L7`` → 7).

    The cells come after the last ``!``: a tab's name may hold one, a cell reference not.
    """
    cells = a1.rpartition("!")[2]
    found = _ROW.match(cells)
    if found is None:
        raise ValueError(f"not a range of rows: {a1!r}")
    return int(found.group(2) or found.group(1))
