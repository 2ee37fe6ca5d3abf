"""The venue's clock as seen from here: local wall time plus a measured offset."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


def _wall_ms() -> float:
    return time.time() * 1000.0


class Clock:
    """`now_ms()` is what signed requests put in their timestamp.

    `sync` measures the offset once per call; concurrent callers share one measurement so
    a burst of timestamp rejections triggers a single round trip.
    """

    __slots__ = ("offset_ms", "_wall_ms", "_pending")

    def __init__(self, offset_ms: float = 0.0, *, wall_ms: Callable[[], float] = _wall_ms) -> None:
        self.offset_ms = offset_ms  # server - local
        self._wall_ms = wall_ms
        self._pending: asyncio.Future[None] | None = None

    def now_ms(self) -> int:
        """Venue time now, in whole milliseconds."""
        wall = self._wall_ms
        if wall is _wall_ms:  # the local clock, read inline: a frame less per signed request
            return int(time.time() * 1000.0 + self.offset_ms)
        return int(wall() + self.offset_ms)

    async def sync(self, fetch_server_time_ms: Callable[[], Awaitable[int]]) -> None:
        pending = self._pending
        if pending is None:
            pending = self._pending = asyncio.ensure_future(self._measure(fetch_server_time_ms))
            pending.add_done_callback(self._measured)
        # shield: a caller cancelled mid-sync must not cancel the measurement others wait for.
        await asyncio.shield(pending)

    def _measured(self, pending: asyncio.Future[None]) -> None:
        self._pending = None
        if not pending.cancelled():
            pending.exception()  # waiters re-raise it; mark it seen so asyncio does not warn

    async def _measure(self, fetch_server_time_ms: Callable[[], Awaitable[int]]) -> None:
        before = self._wall_ms()
        server = await fetch_server_time_ms()
        after = self._wall_ms()
        # Assume the server read its clock half-way through the round trip.
        self.offset_ms = float(server) - (before + after) / 2.0
