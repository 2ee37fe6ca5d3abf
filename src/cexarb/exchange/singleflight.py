"""One in-flight call per key: concurrent callers for the same key share its result.

Replaces per-symbol locks around REST lookups: nothing is held across a sleep or a retry,
so a lookup costs one round trip whatever else is pending on the symbol, and two tasks
asking the venue the same question still send it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """`await flights.run(key, make)`: runs `make()` unless a call for `key` is in flight."""

    __slots__ = ("_flights",)

    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[Any]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: Hashable, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._flights.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(make())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        # A caller that is cancelled does not cancel the call the others wait for.
        return await asyncio.shield(task)

    def _finished(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter got it raised already

    def cancel(self) -> None:
        """Cancel every call in flight (on close)."""
        for task in list(self._flights.values()):
            task.cancel()
        self._flights.clear()
