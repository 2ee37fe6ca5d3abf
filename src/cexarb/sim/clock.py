"""The simulated venue's clock: wall time plus a skew that fault injection can set."""

from __future__ import annotations

import time


class SimClock:
    __slots__ = ("skew_ms",)

    def __init__(self, skew_ms: int = 0) -> None:
        # Server minus real time; a skewed venue makes clients' timestamps look stale or future.
        self.skew_ms = skew_ms

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.skew_ms

    def now_s(self) -> float:
        return time.time() + self.skew_ms / 1000.0
