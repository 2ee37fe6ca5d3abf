"""Which fills a private composite has seen, and from when a catch-up must ask for more.

Stream and REST catch-up overlap, so fills are deduplicated by trade id. Times are the
venue's: a catch-up asks from a little before the last fill seen per symbol, or from when
initialize began, and while the stream may have missed fills (the gap) from when it was last
known complete, each corrected by how far the venue clock was measured to move meanwhile.
"""

from __future__ import annotations

import time
from typing import Any

from cexarb.model import Execution, Symbol

# The fill floor reaches this far before initialize began (the venue clock's offset is
# measured, not exact).
_FLOOR_MARGIN_MS = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


class FillLedger:
    """Seen trade ids (bounded), the last fill time per symbol, the floor and the gap."""

    __slots__ = (
        "_seen",
        "_capacity",
        "_lookback_ms",
        "_last_ms",
        "_last_offset",
        "_floor_ms",
        "_floor_offset",
        "_gap_since_ms",
        "_gap_offset",
        "clock",
    )

    def __init__(self, capacity: int, lookback_ms: int, clock: Any = None) -> None:
        self._seen: dict[tuple[Symbol, str], None] = {}
        self._capacity = capacity
        self._lookback_ms = lookback_ms
        self._last_ms: dict[Symbol, int] = {}
        # The venue clock's measured offset when each last fill (and the floor) was recorded.
        self._last_offset: dict[Symbol, float] = {}
        # The connector's clock (venue time = local + measured offset); None: local time.
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget every fill, the floor and the gap (a new run)."""
        self._seen.clear()
        self._last_ms.clear()
        self._last_offset.clear()
        self._floor_ms = 0
        self._floor_offset = 0.0
        # Venue time the stream was last known complete (None: it is, now).
        self._gap_since_ms: int | None = None
        self._gap_offset = 0.0

    def mark_floor(self, clock: Any, since_init_ms: int) -> None:
        """Fills from when initialize began (`since_init_ms` ago) are news, earlier ones are
        not: the floor of the first catch-up, in venue time, with the gap open from there."""
        self.clock = clock
        self._floor_ms = self.venue_now_ms() - since_init_ms - _FLOOR_MARGIN_MS
        self._floor_offset = self._offset()
        self._gap_since_ms = self._floor_ms
        self._gap_offset = self._floor_offset

    def venue_now_ms(self) -> int:
        """Now on the venue's clock (local time without one)."""
        clock = self.clock
        return clock.now_ms() if clock is not None else _now_ms()

    def _offset(self) -> float:
        clock = self.clock
        return clock.offset_ms if clock is not None else 0.0

    def record(self, execution: Execution) -> bool:
        """False for a fill already seen (stream and REST catch-up overlap)."""
        if execution.trade_id:
            key = (execution.symbol, execution.trade_id)
            seen = self._seen
            if key in seen:
                return False
            seen[key] = None
            if len(seen) > self._capacity:
                del seen[next(iter(seen))]
        if execution.timestamp > self._last_ms.get(execution.symbol, 0):
            self._last_ms[execution.symbol] = execution.timestamp
            self._last_offset[execution.symbol] = self._offset()
        return True

    def open_gap(self) -> None:
        """The stream broke: fills from here on may be missing until `close_gap`."""
        if self._gap_since_ms is None:
            self._gap_since_ms = self.venue_now_ms() - self._lookback_ms
            self._gap_offset = self._offset()

    def close_gap(self) -> None:
        """A confirmed sweep: the stream has carried everything since."""
        self._gap_since_ms = None

    @property
    def gap_open(self) -> bool:
        """True while fills from the stream may be missing (since a break, or initialize)."""
        return self._gap_since_ms is not None

    def symbols(self) -> list[Symbol]:
        """The symbols a fill was seen on."""
        return list(self._last_ms)

    def since(self, symbol: Symbol) -> int:
        """From a little before the last fill seen (clocks differ; duplicates are dropped), or
        from initialize when none was seen: fills from before it are not news."""
        last = self._last_ms.get(symbol)
        if last is None:
            since, offset = self._floor_ms, self._floor_offset
        else:
            since, offset = last - self._lookback_ms, self._last_offset.get(symbol, 0.0)
        now_offset = self._offset()
        # A venue clock measured to have gone back since then stamps its later fills earlier.
        since += int(min(0.0, now_offset - offset))
        if self._gap_since_ms is not None:
            # Fills delivered after the break do not prove the earlier ones arrived: reach back
            # to when the stream was last known complete.
            since = min(since, self._gap_since_ms + int(min(0.0, now_offset - self._gap_offset)))
        return since
