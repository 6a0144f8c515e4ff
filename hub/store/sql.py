"""Statements, built once per dialect, and the script type every transaction is written in.

A statement is written once with ``{}`` where a value goes and ``{json}`` where a JSON value
goes; ``Sql.text(dialect)`` renders it for SQLite (``?``) or PostgreSQL (``$1``, ``$2``...)
with the placeholders of the query builder Tortoise ships (``pypika_tortoise.terms.Parameter``),
once per dialect. A literal ``?`` in the SQL (PostgreSQL's JSONB operator) is left alone.
"""

from __future__ import annotations

import string
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pypika_tortoise.context import SqlContext
from pypika_tortoise.enums import Dialects
from pypika_tortoise.terms import Parameter

if TYPE_CHECKING:
    from hub.jobs import ClaimedJob

T = TypeVar("T")

#: One statement for a script: the SQL in the running database's dialect, and its values.
Statement = tuple[str, list[Any]]
#: A transaction written as a generator: it yields statements and is sent each one's rows.
Script = Generator[Statement, list[dict[str, Any]], T]

_DIALECTS = {"sqlite": Dialects.SQLITE, "postgres": Dialects.POSTGRESQL}
_FORMATTER = string.Formatter()


class Sql:
    """A statement with ``{}`` (a value) and ``{json}`` (a JSON value) marks.

    ``postgres=`` gives PostgreSQL its own wording where the dialects differ.
    """

    __slots__ = ("_postgres", "_template", "_texts")

    def __init__(self, template: str, *, postgres: str | None = None) -> None:
        self._template = template
        self._postgres = postgres
        self._texts: dict[str, str] = {}

    def text(self, dialect: str) -> str:
        text = self._texts.get(dialect)
        if text is None:
            template = (
                self._postgres if dialect == "postgres" and self._postgres else self._template
            )
            text = self._texts[dialect] = _render(template, dialect)
        return text

    def bind(self, dialect: str, *values: Any) -> Statement:
        return self.text(dialect), list(values)


def _render(template: str, dialect: str) -> str:
    context = SqlContext(
        quote_char='"', secondary_quote_char="'", alias_quote_char='"', dialect=_DIALECTS[dialect]
    )
    parts: list[str] = []
    index = 0
    for literal, field, _, _ in _FORMATTER.parse(template):
        parts.append(literal)
        if field is None:
            continue
        index += 1
        mark = Parameter(idx=index).get_sql(context)
        if field == "json":
            mark = f"CAST({mark} AS JSONB)" if dialect == "postgres" else mark
        elif field:
            raise ValueError(f"unknown mark {{{field}}} in {template!r}")
        parts.append(mark)
    return "".join(parts)


class JobInsert(tuple[str, list[Any]]):
    """A statement that inserts a job: the unit of work that runs it collects the new job's
    id and, once committed, hands it to this process's worker (see ``Database.run``)."""

    handover: Handover

    def __new__(cls, statement: Statement, handover: Handover) -> JobInsert:
        self = super().__new__(cls, statement)
        self.handover = handover
        return self


@dataclass(slots=True)
class Handover:
    """A job a unit of work inserted: its id once inserted, the claim it was inserted with
    (``None``: it waits to be claimed) and when it is due."""

    claimed: ClaimedJob | None
    run_at_ms: int
    job_id: int = 0
