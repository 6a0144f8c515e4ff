"""``Step``: one piece of a unit of work that can run alone or inside a bigger one."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from hub.store.sql import Script, Statement

T = TypeVar("T")


class Step(Generic[T]):
    """A script with a database to run it on: ``await step`` runs it as its own unit of work,
    ``result = yield from step`` makes it part of the script being written. One API for both
    (no ``enqueue`` / ``enqueue_script`` twins)."""

    __slots__ = ("_run", "_script")

    def __init__(self, run: Callable[[Script[T]], Any], script: Script[T]) -> None:
        self._run = run
        self._script = script

    def __iter__(self) -> Generator[Statement, list[dict[str, Any]], T]:
        return self._script

    def __await__(self) -> Generator[Any, None, T]:
        result: T = yield from self._run(self._script).__await__()
        return result
